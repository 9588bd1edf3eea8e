import { and, eq, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database, Executor, Transaction } from '../db/client.js';
import { appendStatement, type AppendedRow } from './append-statement.js';
import { send } from './raw.js';
import { eventColumns, eventColumnsWithoutPayload, toEventWithoutPayload, toRecordedEvent, type EventRow } from './rows.js';
import { commitSafe } from './fence.js';
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
import { events, idempotencyKeys, snapshots } from './tables.js';
import type { Event, LogPosition, RecordedEvent, Snapshot } from './types.js';

/** A session on PostgreSQL exposes its Drizzle transaction so inline projections write with it. */
export interface PostgresSession extends EventStoreSession {
  readonly tx: Transaction;
}

/** The first key of cairn's transaction-scoped advisory locks, one space per kind of thing locked. */
export const lockSpaces = { stream: 1, idempotencyKey: 2, processManager: 3 } as const;

/**
 * A transaction-scoped advisory lock on `key` (by its hash; a collision only makes two keys
 * queue). Unlike a row lock it gives the waiting transaction no transaction id, so a writer that
 * takes its stream's lock before anything else gets an id newer than every earlier writer's.
 */
export const advisoryLock = (space: number, key: string): SQL =>
  sql`select pg_advisory_xact_lock(${space}::int, hashtext(${key}))`;

/** Non-blocking: true when this transaction now holds the lock, false when another one does. */
export const tryAdvisoryLock = (space: number, key: string): SQL =>
  sql`select pg_try_advisory_xact_lock(${space}::int, hashtext(${key})) as locked`;

const lockText = 'select pg_advisory_xact_lock($1::int, hashtext($2))';

const dialect = new PgDialect();
const streamColumns = dialect.sqlToQuery(eventColumns).sql;
const columnsWithoutPayload = dialect.sqlToQuery(eventColumnsWithoutPayload).sql;
/** Only events of transactions older than every running one (see fence.ts). */
const commitSafeText = dialect.sqlToQuery(commitSafe(sql.raw('e.transaction_id'))).sql;
/** One stream's events after a version, oldest first; $3 caps how many. */
const readStreamText = `select ${streamColumns} from es.events e where e.aggregate_id = $1 and e.version > $2 order by e.version limit $3`;
/** The same, after the latest snapshot's version too (0 when there is none). */
const readStreamAfterSnapshotText = `select ${streamColumns} from es.events e where e.aggregate_id = $1 and e.version > $2
  and e.version > coalesce((select max(s.version) from es.snapshots s where s.aggregate_id = $1), 0) order by e.version limit $3`;
/** The same, strictly after a position of the log too ($4 transaction id, $5 position). */
const readStreamAfterText = `select ${streamColumns} from es.events e where e.aggregate_id = $1 and e.version > $2
  and (e.transaction_id, e.position) > ($4::xid8, $5::bigint) order by e.version limit $3`;
const streamVersionText = 'select version from es.streams where aggregate_id = $1';
/** The latest snapshot with its stream's version, in one statement (one snapshot of the database). */
const latestSnapshotText = `select s.version, s.data, st.version as stream_version
  from es.snapshots s left join es.streams st on st.aggregate_id = s.aggregate_id
 where s.aggregate_id = $1 order by s.version desc limit 1`;

/**
 * An append from a transaction older than the stream's last writer. The log is ordered by
 * writing transaction, so its events would appear before the version they follow. Never shown to
 * a caller: the store runs the whole unit of work again in a fresh, newer transaction.
 */
export class StreamOrderConflict extends Error {
  constructor(readonly aggregateId: string) {
    super(`stream ${aggregateId} was last written by a newer transaction`);
    this.name = 'StreamOrderConflict';
  }
}

/**
 * Why the append statement moved no stream, from the stream's version before it: a version that
 * does not match (or a stream that exists, or none), else a newer last writer.
 */
const refusal = (aggregateId: string, expected: number | undefined, current: number | undefined): Error =>
  current === undefined || expected === 0 || (expected !== undefined && current !== expected)
    ? new ConcurrencyConflictError(aggregateId, expected, current)
    : new StreamOrderConflict(aggregateId);

/** How often a unit of work is run again after a StreamOrderConflict before the error stands. */
export const maxOrderAttempts = 10;

/** The read side of the store on any pool: the primary, or a replica for queries. */
export class PostgresEventReader implements EventReader {
  constructor(protected readonly db: Executor) {}

  async readStream(aggregateId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const params = [aggregateId, options.afterVersion ?? 0, options.limit ?? 2_147_483_647];
    if (options.after && options.afterLatestSnapshot) throw new EventStoreError('readStream: after and afterLatestSnapshot do not combine');
    const rows = options.after
      ? await send<EventRow>(this.db, readStreamAfterText, [...params, String(options.after.transactionId), String(options.after.position)])
      : await send<EventRow>(this.db, options.afterLatestSnapshot ? readStreamAfterSnapshotText : readStreamText, params);
    return rows.map(toRecordedEvent);
  }

  async streamVersion(aggregateId: string): Promise<number | undefined> {
    const [row] = await send<{ version: number }>(this.db, streamVersionText, [aggregateId]);
    return row?.version;
  }

  async readLog(options: ReadLogOptions): Promise<RecordedEvent[]> {
    const params: unknown[] = [];
    const parameter = (value: unknown) => `$${params.push(value)}`;
    const conditions = [commitSafeText];
    if (options.after) {
      conditions.push(`(e.transaction_id, e.position) > (${parameter(String(options.after.transactionId))}::xid8, ${parameter(String(options.after.position))}::bigint)`);
    }
    if (options.until) {
      conditions.push(`(e.transaction_id, e.position) <= (${parameter(String(options.until.transactionId))}::xid8, ${parameter(String(options.until.position))}::bigint)`);
    }
    if (options.aggregateId !== undefined) conditions.push(`e.aggregate_id = ${parameter(options.aggregateId)}`);
    if (options.aggregateType !== undefined) conditions.push(`e.aggregate_type = ${parameter(options.aggregateType)}`);
    if (options.types !== undefined) conditions.push(options.types.length === 0 ? 'false' : `e.type in (${options.types.map(parameter).join(', ')})`);
    const columns = options.withoutPayload ? columnsWithoutPayload : streamColumns;
    const text = `select ${columns} from es.events e where ${conditions.join(' and ')}
      order by e.transaction_id, e.position limit ${parameter(options.limit)}`;
    const rows = await send<EventRow>(this.db, text, params);
    return rows.map(options.withoutPayload ? toEventWithoutPayload : toRecordedEvent);
  }

  async hasEvent(at: LogPosition): Promise<boolean> {
    const [row] = await this.db
      .select({ position: events.position })
      .from(events)
      .where(and(eq(events.position, at.position), sql`${events.transactionId} = ${String(at.transactionId)}::xid8`));
    return row !== undefined;
  }

  async loadSnapshot<State>(aggregateId: string): Promise<Snapshot<State> | null> {
    const [row] = await send<{ version: number; data: unknown; stream_version: number | null }>(this.db, latestSnapshotText, [aggregateId]);
    if (!row) return null;
    if (row.stream_version === null || row.version > row.stream_version) {
      throw new EventStoreError(`snapshot of ${aggregateId} at version ${row.version} is newer than its stream`);
    }
    return { aggregateId, version: row.version, state: row.data as State };
  }
}

class PostgresSessionImpl extends PostgresEventReader implements PostgresSession {
  appended = false;
  /** Streams this unit of work locked or appended to: a retry takes their locks first. */
  readonly streams = new Set<string>();
  /** The last work queued on each stream by `exclusive`. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly tx: Transaction) {
    super(tx);
  }

  async lockStream(aggregateId: string): Promise<void> {
    this.streams.add(aggregateId);
    await send(this.tx, lockText, [lockSpaces.stream, aggregateId]);
  }

  exclusive<T>(aggregateId: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(aggregateId);
    const run = before ? before.then(work, work) : work();
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(aggregateId, done);
    void done.then(() => {
      if (this.queues.get(aggregateId) === done) this.queues.delete(aggregateId);
    });
    return run;
  }

  async lockIdempotencyKey(key: string): Promise<void> {
    await send(this.tx, lockText, [lockSpaces.idempotencyKey, key]);
  }

  /**
   * One statement: move the stream's version under the expected-version rule, insert the events
   * and their outbox rows. Nothing is written when the rule fails (no stream row comes back).
   */
  async appendToStream(stream: StreamRef, newEvents: readonly Event[], options: AppendOptions): Promise<AppendResult> {
    if (newEvents.length === 0) throw new EventStoreError(`nothing to append to ${stream.aggregateId}`);
    this.streams.add(stream.aggregateId);
    const ids = options.eventIds ?? newEvents.map(() => newId('evt'));
    if (ids.length !== newEvents.length) throw new EventStoreError(`${ids.length} ids for ${newEvents.length} events`);
    const { text, params } = appendStatement(stream, newEvents, ids, options);
    const rows = await send<AppendedRow>(this.tx, text, params);
    const [first] = rows;
    if (first?.stream_version == null) throw refusal(stream.aggregateId, options.expectedVersion, first?.current_version ?? undefined);
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
export class PostgresEventStore extends PostgresEventReader implements EventStore<PostgresSession> {
  private orderConflicts = 0;

  constructor(
    db: Database,
    private readonly afterCommit: () => void = () => undefined,
  ) {
    super(db);
  }

  /** Units of work run again because a stream they appended to had a newer last writer. */
  get streamOrderRetries(): number {
    return this.orderConflicts;
  }

  /**
   * Runs `work` in one transaction. A StreamOrderConflict runs it again in a fresh transaction
   * that first locks every stream the failed attempt touched, before it has a transaction id:
   * each of those streams' writers then either committed before (and has an older id) or waits.
   * `work` must be safe to run again: it only reads and writes through the session.
   */
  async transaction<T>(work: (session: PostgresSession) => Promise<T>): Promise<T> {
    let lockFirst: readonly string[] = [];
    for (let attempt = 1; ; attempt++) {
      let session: PostgresSessionImpl | undefined;
      try {
        const result = await (this.db as Database).transaction(async (tx) => {
          session = new PostgresSessionImpl(tx);
          for (const aggregateId of lockFirst) await session.lockStream(aggregateId);
          return work(session);
        });
        if (session?.appended) this.afterCommit();
        return result;
      } catch (error) {
        if (!(error instanceof StreamOrderConflict) || attempt >= maxOrderAttempts) throw error;
        this.orderConflicts += 1;
        lockFirst = [...new Set([...lockFirst, ...session!.streams])].sort();
      }
    }
  }
}
