import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import createSubscriberModule from 'pg-listen';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { compareLogPositions as compare, logStart } from './cursor.js';
import { fence } from './fence.js';
import { defaultReadGapMs } from './read-gap.js';
import { createListenCheck, type ListenCheck } from './listen-check.js';
import { eventsChannel } from './notifier.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import type { LogPosition, RecordedEvent } from './types.js';

// pg-listen's default export is mistyped under NodeNext.
const createSubscriber = createSubscriberModule.default;

export { defaultReadGapMs } from './read-gap.js';

export type RelayListener = (batch: readonly RecordedEvent[]) => void;

export type RelayOptions = {
  readonly db: Database;
  /** A connection string for the dedicated LISTEN connection. */
  readonly listenUrl: string;
  readonly pollMs: number;
  readonly logger: Logger;
  readonly batchSize?: number;
  /**
   * The least time between the end of one read and the start of the next a doorbell asks for
   * (`defaultReadGapMs`). Under a stream of commits each read then takes in more of them; a doorbell after
   * a quiet spell still reads at once.
   */
  readonly readGapMs?: number;
  /** Live events held for one slow subscriber before it goes back to reading the table (10,000). */
  readonly subscriberBuffer?: number;
  /** How often the LISTEN connection must hear a probe back (`CAIRN_LISTEN_CHECK_MS`, 5 s). */
  readonly listenCheckMs?: number;
};


/**
 * The longest wait between reads while the fence holds committed events back. The fence is
 * cluster-wide: the transaction holding it may be in another database, or write nothing this
 * relay hears, so its end rings no doorbell and only these retries find the events. A read that
 * finds nothing new costs well under a millisecond; a doubling backoff without this cap waited
 * seconds after a transaction held the fence for seconds.
 */
const heldRetryCapMs = 100;

/**
 * The relay's read: the next batch after `after` up to the fence, whether the fence holds
 * anything back, and the WAL position the batch is flushed to. The fence check asks for the
 * outbox's newest transaction (one step down its index), not for any row at or past the fence:
 * the planner estimated a third of the table for that and scanned all of it on every read,
 * 50 ms at 100,000 rows, growing with the log.
 */
export const relayRead = (after: LogPosition, limit: number): SQL => sql`
      with batch as (
        select ${eventColumns}
          from es.outbox o join es.events e on e.position = o.position
         where (o.transaction_id, o.position) > (${String(after.transactionId)}::xid8, ${String(after.position)}::bigint)
           and o.transaction_id < ${fence}
         order by o.transaction_id, o.position
         limit ${limit})
      select batch.*, coalesce((select max(h.transaction_id) from es.outbox h) >= ${fence}, false) as fence_held,
             pg_current_wal_flush_lsn()::text as lsn
        from (values (1)) as one (row) left join batch on true
       order by batch.transaction_id::xid8, batch.position::bigint`;

/**
 * Reads the log (the outbox, joined to its events) after its cursor in commit-safe order and
 * hands each batch to its listeners in process: subscriptions and process managers. A NOTIFY
 * only rings the doorbell; the table is always the source, so a lost notification costs latency,
 * never an event. Quick retries (`heldRetryCapMs`) cover a fence held by a long transaction, a
 * safety poll covers lost notifications and reconnects, and a probe proves the LISTEN connection
 * hears (see ListenCheck).
 */
export class Relay {
  private current: LogPosition = logStart;
  /** The primary's WAL position when the read that found `current` ran: a replica that has replayed it holds everything up to `current`. */
  private currentLsn: string | undefined;
  private readonly listeners = new Set<RelayListener>();
  /**
   * Listeners to one aggregate's events (a `…Changed` subscription, an `events(aggregateId)` one),
   * by aggregate id: a batch reaches only those its events name, so ten thousand of them cost
   * nothing for a commit to an aggregate none of them watches.
   */
  private readonly byAggregate = new Map<string, Set<RelayListener>>();
  private aggregateListeners = 0;
  private readonly closeListeners = new Set<() => void>();
  private readonly buffers = new Set<() => number>();
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private quickRetry = 0;
  private subscriber: ReturnType<typeof createSubscriber> | null = null;
  private listening = false;
  private databaseHealthy = false;
  private stopped = false;
  private delivered = 0;
  private overflowed = 0;
  private echoes = 0;
  private readCount = 0;
  private lastReadEnded = -Infinity;
  private gapTimer: NodeJS.Timeout | null = null;

  /**
   * What this relay's own instance sends with its NOTIFY: the relay was poked in process at the
   * commit already, so hearing its own doorbell again would only read the log a second time.
   */
  readonly doorbellPayload = `relay_${randomUUID()}`;

  private readonly listenCheck: ListenCheck;

  constructor(private readonly options: RelayOptions) {
    this.listenCheck = createListenCheck({
      id: this.doorbellPayload,
      intervalMs: options.listenCheckMs ?? 5_000,
      logger: options.logger,
      send: async (payload) => void (await options.db.execute(sql`select pg_notify(${eventsChannel}, ${payload})`)),
    });
  }

  /** The position of the last event handed to listeners. */
  get cursor(): LogPosition {
    return this.current;
  }

  /** The primary's WAL position at the read that reached `cursor`; unknown before the first event. */
  get cursorLsn(): string | undefined {
    return this.currentLsn;
  }

  get ready(): boolean {
    return this.listening && this.databaseHealthy && this.listenCheck.healthy && !this.stopped;
  }

  /** Whether the LISTEN connection hears the probes rung through the write path (see ListenCheck). */
  get listenHealthy(): boolean {
    return this.listenCheck.healthy;
  }

  /**
   * Whether another instance's relay may be listening for doorbells (see ListenCheck): while it
   * is not, a commit's NOTIFY would reach no one. True while this relay is not listening itself.
   */
  get othersMayListen(): boolean {
    return !this.listening || this.listenCheck.othersMayListen;
  }

  /** Probes the LISTEN connection did not hear back in time. */
  get missedListenProbes(): number {
    return this.listenCheck.missed;
  }

  get closed(): boolean {
    return this.stopped;
  }

  /** How many events this relay has handed to its listeners since it started. */
  get deliveredEvents(): number {
    return this.delivered;
  }

  /** Live events a subscriber may hold before it goes back to reading the table. */
  get subscriberBuffer(): number {
    return this.options.subscriberBuffer ?? 10_000;
  }

  /** How many times a subscriber fell too far behind and went back to reading the table. */
  get overflows(): number {
    return this.overflowed;
  }

  /** Counts a subscriber that dropped its buffer for the table (see `subscribeToLog`). */
  recordOverflow(): void {
    this.overflowed += 1;
  }

  private get readGapMs(): number {
    return this.options.readGapMs ?? defaultReadGapMs;
  }

  /** How many times the relay has read the log (`cairn_relay_reads_total`). */
  get reads(): number {
    return this.readCount;
  }

  /** No read under way or waiting out its gap: a doorbell now starts a read at once. */
  get idle(): boolean {
    return !this.draining && !this.gapTimer && performance.now() - this.lastReadEnded >= this.readGapMs;
  }

  /** Notifications of this instance's own doorbell, heard over LISTEN and not acted on. */
  get echoesIgnored(): number {
    return this.echoes;
  }

  /** How many subscribers are listening now. */
  get listenerCount(): number {
    return this.listeners.size + this.aggregateListeners;
  }

  async start(): Promise<void> {
    this.current = await this.head();
    this.databaseHealthy = true;
    const subscriber = createSubscriber(
      { connectionString: this.options.listenUrl, application_name: 'cairn-relay' },
      {
        retryLimit: Infinity,
        retryTimeout: Infinity,
        retryInterval: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
        paranoidChecking: 5_000,
        parse: (payload) => payload,
      },
    );
    subscriber.events.on('notification', ({ payload }) => {
      if (typeof payload === 'string' && this.listenCheck.heard(payload)) return;
      if (payload === this.doorbellPayload) this.echoes += 1;
      else this.poke();
    });
    subscriber.events.on('connected', () => {
      this.listening = true;
      this.poke(); // catch up on whatever was committed while we were away
    });
    subscriber.events.on('reconnect', (attempt) => {
      this.listening = false;
      this.options.logger.warn('relay LISTEN connection lost; reconnecting', { attempt });
    });
    subscriber.events.on('error', (error) => this.options.logger.error('relay LISTEN error', { error }));
    await subscriber.connect();
    await subscriber.listenTo(eventsChannel);
    this.subscriber = subscriber;
    this.schedule(this.options.pollMs);
    await this.listenCheck.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listenCheck.stop();
    if (this.timer) clearTimeout(this.timer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    await this.draining;
    await this.subscriber?.close().catch(() => undefined);
    for (const onClose of this.closeListeners) onClose();
    this.listeners.clear();
    this.byAggregate.clear();
    this.aggregateListeners = 0;
    this.closeListeners.clear();
    this.buffers.clear();
  }

  /**
   * `buffered` reports how many delivered events the listener holds, for `bufferedEvents`. With
   * `aggregateId`, the listener is handed only that aggregate's events, and only batches that hold some.
   */
  subscribe(listener: RelayListener, onClose: () => void, buffered?: () => number, aggregateId?: string): () => void {
    if (aggregateId === undefined) {
      this.listeners.add(listener);
    } else {
      let own = this.byAggregate.get(aggregateId);
      if (!own) this.byAggregate.set(aggregateId, (own = new Set()));
      own.add(listener);
      this.aggregateListeners += 1;
    }
    this.closeListeners.add(onClose);
    if (buffered) this.buffers.add(buffered);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      if (aggregateId === undefined) {
        this.listeners.delete(listener);
      } else {
        const own = this.byAggregate.get(aggregateId);
        if (own?.delete(listener)) this.aggregateListeners -= 1;
        if (own?.size === 0) this.byAggregate.delete(aggregateId);
      }
      this.closeListeners.delete(onClose);
      if (buffered) this.buffers.delete(buffered);
    };
  }

  /** Delivered events that subscribers hold but have not yet passed on to their clients. */
  get bufferedEvents(): number {
    let total = 0;
    for (const buffered of this.buffers) total += buffered();
    return total;
  }

  /** Ring the doorbell: read everything after the cursor. Calls during a drain coalesce into one more. */
  poke(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    if (this.gapTimer) return;
    const wait = this.lastReadEnded + this.readGapMs - performance.now();
    if (wait > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        this.poke();
      }, wait);
      return;
    }
    this.draining = this.drain().finally(() => {
      this.lastReadEnded = performance.now();
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /**
   * Resolves once every event committed before the call has been handed to listeners, and a read
   * that began after the call has ended (so whatever it could see, it has looked at).
   */
  async settle(timeoutMs = 10_000): Promise<void> {
    const readsBefore = this.readCount;
    const target = await this.head();
    const deadline = Date.now() + timeoutMs;
    const done = () => compare(this.current, target) >= 0 && this.readCount > readsBefore && !this.draining;
    while (!this.stopped && !done()) {
      if (Date.now() > deadline) throw new Error(`relay did not reach the head of the log in ${timeoutMs} ms`);
      this.poke();
      await (this.draining ?? Promise.resolve());
      if (!done()) {
        // A read waiting out its gap: wait with it rather than spin.
        await new Promise((resolve) => (this.gapTimer ? setTimeout(resolve, this.readGapMs) : setImmediate(resolve)));
      }
    }
  }

  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    try {
      let held: boolean;
      for (;;) {
        const read = await this.read(batchSize);
        this.databaseHealthy = true;
        if (read.rows.length > 0) this.publish(read.rows, read.lsn);
        held = read.held;
        if (read.rows.length < batchSize) break;
      }
      this.quickRetry = held ? this.quickRetry + 1 : 0;
      if (this.quickRetry > 0) this.schedule(Math.min(5 * 2 ** this.quickRetry, heldRetryCapMs, this.options.pollMs));
    } catch (error) {
      this.databaseHealthy = false;
      this.options.logger.warn('relay read failed; retrying on the next poll', { error });
    }
  }

  private publish(rows: readonly EventRow[], lsn: string): void {
    const batch = rows.map(toRecordedEvent);
    this.current = batch.at(-1)!.logPosition;
    this.currentLsn = lsn;
    this.delivered += batch.length;
    for (const listener of this.listeners) this.hand(listener, batch);
    if (this.byAggregate.size === 0) return;
    const byAggregate = new Map<string, RecordedEvent[]>();
    for (const event of batch) {
      if (!this.byAggregate.has(event.aggregateId)) continue;
      const own = byAggregate.get(event.aggregateId);
      if (own) own.push(event);
      else byAggregate.set(event.aggregateId, [event]);
    }
    for (const [aggregateId, events] of byAggregate) {
      for (const listener of [...(this.byAggregate.get(aggregateId) ?? [])]) this.hand(listener, events);
    }
  }

  private hand(listener: RelayListener, batch: readonly RecordedEvent[]): void {
    try {
      listener(batch);
    } catch (error) {
      // The cursor has moved on: a throw must not cost the listeners after this one their batch.
      this.options.logger.error('relay listener failed', { error });
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poke();
      this.schedule(this.options.pollMs);
    }, delayMs);
    this.timer.unref();
  }

  /**
   * The next batch after the cursor, up to the fence, and whether committed events wait behind
   * it (an older transaction is still open): one statement, so one snapshot for both answers.
   */
  private async read(limit: number): Promise<{ rows: EventRow[]; held: boolean; lsn: string }> {
    const { transactionId, position } = this.current;
    this.readCount += 1;
    const result = await this.options.db.execute<EventRow & { fence_held: boolean; lsn: string }>(relayRead({ transactionId, position }, limit));
    // With nothing to hand out, the one row carries only the fence's answer.
    return { rows: result.filter((row) => row.position !== null), held: result[0]?.fence_held === true, lsn: result[0]!.lsn };
  }

  /** The newest commit-safe position in the database: where "from now" begins. */
  async head(): Promise<LogPosition> {
    const result = await this.options.db.execute<{ transaction_id: string; position: string }>(sql`
      select o.transaction_id::text as transaction_id, o.position::text as position from es.outbox o
       where o.transaction_id < ${fence}
       order by o.transaction_id desc, o.position desc limit 1`);
    // Qualified on purpose: a bare `transaction_id` in ORDER BY names the text output column,
    // and text order puts '999' after '1037'.
    const row = result[0];
    return row ? { transactionId: BigInt(row.transaction_id), position: BigInt(row.position) } : logStart;
  }
}
