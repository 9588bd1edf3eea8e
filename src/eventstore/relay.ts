import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import createSubscriberModule from 'pg-listen';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { compareLogPositions as compare, logStart } from './cursor.js';
import { eventsChannel } from './notifier.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import type { LogPosition, RecordedEvent } from './types.js';

// pg-listen's default export is mistyped under NodeNext.
const createSubscriber = createSubscriberModule.default;

/** Reads a stream of doorbells asks for start at least this far apart (`CAIRN_RELAY_READ_GAP_MS`). */
export const defaultReadGapMs = 5;

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
};


/**
 * Reads the outbox in commit-safe order and fans each batch out in process. NOTIFY only rings
 * the doorbell; the table is always the source, so a lost notification costs latency, never an
 * event. A safety poll covers lost notifications, reconnects and a fence held by a long transaction.
 */
export class Relay {
  private current: LogPosition = logStart;
  private readonly listeners = new Set<RelayListener>();
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

  constructor(private readonly options: RelayOptions) {}

  /** The position of the last event handed to listeners. */
  get cursor(): LogPosition {
    return this.current;
  }

  get ready(): boolean {
    return this.listening && this.databaseHealthy && !this.stopped;
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

  /** Notifications of this instance's own doorbell, heard over LISTEN and not acted on. */
  get echoesIgnored(): number {
    return this.echoes;
  }

  /** How many subscribers are listening now. */
  get listenerCount(): number {
    return this.listeners.size;
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
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    await this.draining;
    await this.subscriber?.close().catch(() => undefined);
    for (const onClose of this.closeListeners) onClose();
    this.listeners.clear();
    this.closeListeners.clear();
    this.buffers.clear();
  }

  /** Ends every subscriber's stream (they complete normally); used by a graceful shutdown. */
  endSubscriptions(): void {
    for (const onClose of [...this.closeListeners]) onClose();
  }

  /** `buffered` reports how many delivered events the listener holds, for `bufferedEvents`. */
  subscribe(listener: RelayListener, onClose: () => void, buffered?: () => number): () => void {
    this.listeners.add(listener);
    this.closeListeners.add(onClose);
    if (buffered) this.buffers.add(buffered);
    return () => {
      this.listeners.delete(listener);
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

  /** Resolves once every event committed before the call has been handed to listeners. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const target = await this.head();
    const deadline = Date.now() + timeoutMs;
    while (!this.stopped && compare(this.current, target) < 0) {
      if (Date.now() > deadline) throw new Error(`relay did not reach the head of the log in ${timeoutMs} ms`);
      this.poke();
      await (this.draining ?? Promise.resolve());
      if (compare(this.current, target) < 0) {
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
        if (read.rows.length > 0) this.publish(read.rows);
        held = read.held;
        if (read.rows.length < batchSize) break;
      }
      this.quickRetry = held ? this.quickRetry + 1 : 0;
      if (this.quickRetry > 0) this.schedule(Math.min(5 * 2 ** this.quickRetry, this.options.pollMs));
    } catch (error) {
      this.databaseHealthy = false;
      this.options.logger.warn('relay read failed; retrying on the next poll', { error });
    }
  }

  private publish(rows: readonly EventRow[]): void {
    const batch = rows.map(toRecordedEvent);
    this.current = batch.at(-1)!.logPosition;
    this.delivered += batch.length;
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (error) {
        // The cursor has moved on: a throw must not cost the listeners after this one their batch.
        this.options.logger.error('relay listener failed', { error });
      }
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
  private async read(limit: number): Promise<{ rows: EventRow[]; held: boolean }> {
    const { transactionId, position } = this.current;
    this.readCount += 1;
    // The fence is spelled out in both places, not shared through a CTE: only as this stable
    // expression can PostgreSQL use it in an index condition (through a CTE, the fence check
    // scanned the whole outbox).
    const fence = sql`pg_snapshot_xmin(pg_current_snapshot())`;
    const result = await this.options.db.execute<EventRow & { fence_held: boolean }>(sql`
      with batch as (
        select ${eventColumns}
          from es.outbox o join es.events e on e.position = o.position
         where (o.transaction_id, o.position) > (${String(transactionId)}::xid8, ${String(position)}::bigint)
           and o.transaction_id < ${fence}
         order by o.transaction_id, o.position
         limit ${limit})
      select batch.*, exists (select 1 from es.outbox h where h.transaction_id >= ${fence}) as fence_held
        from (values (1)) as one (row) left join batch on true
       order by batch.transaction_id::xid8, batch.position::bigint`);
    // With nothing to hand out, the one row carries only the fence's answer.
    return { rows: result.filter((row) => row.position !== null), held: result[0]?.fence_held === true };
  }

  /** The newest commit-safe position in the database: where "from now" begins. */
  async head(): Promise<LogPosition> {
    const result = await this.options.db.execute<{ transaction_id: string; position: string }>(sql`
      select o.transaction_id::text as transaction_id, o.position::text as position from es.outbox o
       where o.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       order by o.transaction_id desc, o.position desc limit 1`);
    // Qualified on purpose: a bare `transaction_id` in ORDER BY names the text output column,
    // and text order puts '999' after '1037'.
    const row = result[0];
    return row ? { transactionId: BigInt(row.transaction_id), position: BigInt(row.position) } : logStart;
  }
}
