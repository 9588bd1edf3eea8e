import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../db/client.js';
import { appendStatement, type AppendedRow } from './append-statement.js';
import { ConcurrencyConflictError, EventStoreError } from './errors.js';
import { newId } from './ids.js';
import type {
  AppendOptions,
  AppendResult,
  EventReader,
  EventStore,
  EventStoreSession,
  IdempotencyRecord,
  ReadLogOptions,
  ReadStreamOptions,
  StreamRef,
} from './store.js';
import { events, idempotencyKeys, snapshots, streams } from './tables.js';
import type { Event, EventMetadata, LogPosition, RecordedEvent, Snapshot } from './types.js';

/** A session on PostgreSQL exposes its Drizzle transaction so inline projections write with it. */
export interface PostgresSession extends EventStoreSession {
  readonly tx: Transaction;
}

type EventRow = typeof events.$inferSelect;

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row.id,
  type: row.type,
  data: row.data as Record<string, unknown>,
  aggregateId: row.aggregateId,
  aggregateType: row.aggregateType,
  version: row.version,
  metadata: row.metadata as EventMetadata,
  occurredAt: row.occurredAt,
  recordedAt: row.recordedAt,
  logPosition: { transactionId: BigInt(row.transactionId), position: row.position },
});

/** Rows committed by transactions older than every running one: nothing can commit before them. */
export const commitSafe = (transactionId: SQL | typeof events.transactionId): SQL =>
  sql`${transactionId} < pg_snapshot_xmin(pg_current_snapshot())`;

class PostgresReader implements EventReader {
  constructor(protected readonly db: Executor) {}

  async readStream(aggregateId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = await this.db
      .select()
      .from(events)
      .where(and(eq(events.aggregateId, aggregateId), gt(events.version, options.afterVersion ?? 0)))
      .orderBy(asc(events.version))
      .limit(options.limit ?? 2_147_483_647);
    return rows.map(toRecorded);
  }

  async streamVersion(aggregateId: string): Promise<number | undefined> {
    const [row] = await this.db
      .select({ version: streams.version })
      .from(streams)
      .where(eq(streams.aggregateId, aggregateId));
    return row?.version;
  }

  async readLog(options: ReadLogOptions): Promise<RecordedEvent[]> {
    const conditions: SQL[] = [commitSafe(events.transactionId)];
    if (options.after) {
      conditions.push(
        sql`(${events.transactionId}, ${events.position}) > (${String(options.after.transactionId)}::xid8, ${options.after.position})`,
      );
    }
    if (options.until) {
      conditions.push(
        sql`(${events.transactionId}, ${events.position}) <= (${String(options.until.transactionId)}::xid8, ${options.until.position})`,
      );
    }
    if (options.aggregateId !== undefined) conditions.push(eq(events.aggregateId, options.aggregateId));
    if (options.aggregateType !== undefined) conditions.push(eq(events.aggregateType, options.aggregateType));
    if (options.types !== undefined) conditions.push(inArray(events.type, [...options.types]));
    const rows = await this.db
      .select()
      .from(events)
      .where(and(...conditions))
      .orderBy(asc(events.transactionId), asc(events.position))
      .limit(options.limit);
    return rows.map(toRecorded);
  }

  async hasEvent(at: LogPosition): Promise<boolean> {
    const [row] = await this.db
      .select({ position: events.position })
      .from(events)
      .where(and(eq(events.position, at.position), sql`${events.transactionId} = ${String(at.transactionId)}::xid8`));
    return row !== undefined;
  }

  async loadSnapshot<State>(aggregateId: string): Promise<Snapshot<State> | null> {
    const [row] = await this.db
      .select()
      .from(snapshots)
      .where(eq(snapshots.aggregateId, aggregateId))
      .orderBy(desc(snapshots.version))
      .limit(1);
    if (!row) return null;
    const version = await this.streamVersion(aggregateId);
    if (version === undefined || row.version > version) {
      throw new EventStoreError(`snapshot of ${aggregateId} at version ${row.version} is newer than its stream`);
    }
    return { aggregateId, version: row.version, state: row.data as State };
  }
}

class PostgresSessionImpl extends PostgresReader implements PostgresSession {
  appended = false;

  constructor(readonly tx: Transaction) {
    super(tx);
  }

  /**
   * One statement: move the stream's version under the expected-version rule, insert the events
   * and their outbox rows. Nothing is written when the rule fails (no stream row comes back).
   */
  async appendToStream(stream: StreamRef, newEvents: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    if (newEvents.length === 0) throw new EventStoreError(`nothing to append to ${stream.aggregateId}`);
    const ids = newEvents.map(() => newId('evt'));
    const rows = await this.tx.execute<AppendedRow>(appendStatement(stream, newEvents, ids, options));
    const [first] = rows;
    if (!first) {
      throw new ConcurrencyConflictError(stream.aggregateId, options.expectedVersion, await this.streamVersion(stream.aggregateId));
    }
    if (first.stream_type !== stream.aggregateType) {
      throw new EventStoreError(`stream ${stream.aggregateId} is a ${first.stream_type}, not a ${stream.aggregateType}`);
    }
    const base = first.stream_version - newEvents.length;
    const recorded = rows.map((row): RecordedEvent => {
      const index = row.version! - base - 1;
      return {
        id: ids[index]!,
        type: newEvents[index]!.type,
        data: newEvents[index]!.data,
        aggregateId: stream.aggregateId,
        aggregateType: stream.aggregateType,
        version: row.version!,
        metadata: options.metadata,
        occurredAt: options.occurredAt,
        recordedAt: new Date(row.recorded_at!),
        logPosition: { transactionId: BigInt(row.transaction_id!), position: BigInt(row.position!) },
      };
    });
    this.appended = true;
    return { version: first.stream_version, events: recorded };
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const version = await this.streamVersion(snapshot.aggregateId);
    if (version === undefined || snapshot.version > version || snapshot.version < 1) {
      throw new EventStoreError(
        `snapshot of ${snapshot.aggregateId} at version ${snapshot.version} does not match its stream (${version ?? 'none'})`,
      );
    }
    await this.tx
      .insert(snapshots)
      .values({ aggregateId: snapshot.aggregateId, version: snapshot.version, data: snapshot.state })
      .onConflictDoUpdate({ target: [snapshots.aggregateId, snapshots.version], set: { data: snapshot.state } });
  }

  async findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null> {
    const [row] = await this.tx.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    return row ? { ...row, result: row.result } : null;
  }

  async saveIdempotencyRecord(record: IdempotencyRecord): Promise<boolean> {
    const rows = await this.tx
      .insert(idempotencyKeys)
      .values({ ...record, result: record.result ?? null })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    return rows.length === 1;
  }
}

/**
 * The event store on PostgreSQL. `afterCommit` runs after every transaction that appended
 * events has committed: the relay's doorbell rings there, outside the write path.
 */
export class PostgresEventStore extends PostgresReader implements EventStore<PostgresSession> {
  constructor(
    db: Database,
    private readonly afterCommit: () => void = () => undefined,
  ) {
    super(db);
  }

  async transaction<T>(work: (session: PostgresSession) => Promise<T>): Promise<T> {
    let session: PostgresSessionImpl | undefined;
    const result = await (this.db as Database).transaction(async (tx) => {
      session = new PostgresSessionImpl(tx);
      return work(session);
    });
    if (session?.appended) this.afterCommit();
    return result;
  }
}
