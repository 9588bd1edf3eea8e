import { and, asc, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../db/client.js';
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
import { events, idempotencyKeys, outbox, snapshots, streams } from './tables.js';
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

  async appendToStream(stream: StreamRef, newEvents: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    if (newEvents.length === 0) throw new EventStoreError(`nothing to append to ${stream.aggregateId}`);
    const version = await this.advanceStream(stream, newEvents.length, options.expectedVersion);
    const first = version - newEvents.length + 1;
    const rows = await this.tx
      .insert(events)
      .values(
        newEvents.map((event, index) => ({
          id: newId('evt'),
          aggregateId: stream.aggregateId,
          aggregateType: stream.aggregateType,
          version: first + index,
          type: event.type,
          data: event.data,
          metadata: options.metadata,
          occurredAt: options.occurredAt,
        })),
      )
      .returning();
    await this.tx
      .insert(outbox)
      .values(rows.map((row) => ({ position: row.position, aggregateType: row.aggregateType, type: row.type })));
    this.appended = true;
    return { version, events: rows.map(toRecorded) };
  }

  /** Moves the stream's version by `count` under the expected-version rule; returns the new version. */
  private async advanceStream(stream: StreamRef, count: number, expected: number | undefined): Promise<number> {
    const { aggregateId, aggregateType } = stream;
    let row: { version: number; aggregateType: string } | undefined;
    if (expected === 0) {
      [row] = await this.tx
        .insert(streams)
        .values({ aggregateId, aggregateType, version: count })
        .onConflictDoNothing()
        .returning({ version: streams.version, aggregateType: streams.aggregateType });
    } else if (expected === undefined) {
      [row] = await this.tx
        .insert(streams)
        .values({ aggregateId, aggregateType, version: count })
        .onConflictDoUpdate({
          target: streams.aggregateId,
          set: { version: sql`${streams.version} + ${count}`, updatedAt: sql`now()` },
        })
        .returning({ version: streams.version, aggregateType: streams.aggregateType });
    } else {
      [row] = await this.tx
        .update(streams)
        .set({ version: expected + count, updatedAt: sql`now()` })
        .where(and(eq(streams.aggregateId, aggregateId), eq(streams.version, expected)))
        .returning({ version: streams.version, aggregateType: streams.aggregateType });
    }
    if (!row) throw new ConcurrencyConflictError(aggregateId, expected, await this.streamVersion(aggregateId));
    if (row.aggregateType !== aggregateType) {
      throw new EventStoreError(`stream ${aggregateId} is a ${row.aggregateType}, not a ${aggregateType}`);
    }
    return row.version;
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
