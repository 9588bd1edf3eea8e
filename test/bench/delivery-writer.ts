/**
 * The writer of the delivery bench (test/bench/delivery.ts), forked as a child process so that a
 * server saturated by fan-out cannot slow the write rate down with it. It appends through the
 * kernel store (`PostgresEventStore`) on a pool of its own and rings the doorbell after each
 * commit with the coalesced NOTIFY, as another cairn instance handling commands would; the
 * server's relay hears it over LISTEN.
 *
 * Commit acknowledgements go to the bench as they happen, stamped with
 * `performance.timeOrigin + performance.now()` in this process's clock.
 */
import { connect } from '../../src/db/client.js';
import { createNotifier } from '../../src/eventstore/notifier.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { createLogger } from '../../src/logger.js';
import { runOpenLoop } from './open-loop.js';

export type WriteOrder = {
  /** Events per second, `batch` per transaction. */
  readonly rate: number;
  readonly batch: number;
  readonly durationMs: number;
  readonly aggregateType: string;
};

export type ToWriter = { readonly type: 'ping' } | ({ readonly type: 'write' } & WriteOrder);

export type WriteResult = {
  readonly events: number;
  readonly transactions: number;
  readonly failures: number;
  readonly firstFailure?: string;
  /** Events acknowledged per second of the window. */
  readonly rate: number;
  /** How late the schedule's most delayed transaction started. */
  readonly maxLateMs: number;
  /** Transactions of the schedule not started by the end of the window. */
  readonly skipped: number;
  readonly commitP50: number;
  readonly commitP99: number;
  /** This process's CPU time over the window, in ms. */
  readonly cpuMs: number;
  /** When the last write was acknowledged (or the window ended), in this process's clock. */
  readonly endedAt: number;
};

export type FromWriter =
  | { readonly type: 'pong'; readonly at: number }
  | { readonly type: 'commits'; readonly commits: readonly (readonly [transactionId: string, at: number])[] }
  | { readonly type: 'written'; readonly result: WriteResult }
  | { readonly type: 'failed'; readonly error: string };

/** Writes in flight at once; a schedule that needs more falls behind and says so. */
export const maxInFlight = 32;

const now = () => performance.timeOrigin + performance.now();

let streams = 0;

/** One transaction: `batch` events appended to a fresh stream. Resolves with its transaction id. */
const appendBatch = async (store: PostgresEventStore, order: WriteOrder): Promise<string> => {
  const serial = ++streams;
  const result = await store.transaction((session) =>
    session.appendToStream(
      { aggregateId: `bench-delivery-${process.pid}-${serial}`, aggregateType: order.aggregateType },
      Array.from({ length: order.batch }, (_, index) => ({ type: 'BenchDeliveryRecorded', data: { serial, index } })),
      { expectedVersion: 0, metadata: { correlationId: 'bench-delivery', causationId: 'bench-delivery' }, occurredAt: new Date() },
    ),
  );
  return String(result.events[0]!.logPosition.transactionId);
};

/** Transaction i starts at `i × batch / rate` seconds (see `runOpenLoop`). */
const pacedWrites = async (store: PostgresEventStore, order: WriteOrder, onCommit: (transactionId: string, at: number) => void): Promise<WriteResult> => {
  const { acknowledged, elapsedMs, ...loop } = await runOpenLoop({
    intervalMs: (1_000 * order.batch) / order.rate,
    durationMs: order.durationMs,
    maxInFlight,
    write: () => appendBatch(store, order),
    onCommit,
  });
  return {
    ...loop,
    events: acknowledged * order.batch,
    transactions: acknowledged,
    rate: (acknowledged * order.batch) / (elapsedMs / 1_000),
    endedAt: now(),
  };
};

const serve = (databaseUrl: string, send: (message: FromWriter) => void) => {
  const logger = createLogger('warn', { component: 'bench-writer' });
  const connection = connect(databaseUrl, { max: maxInFlight + 2, applicationName: 'cairn-bench-writer' });
  const notifier = createNotifier(connection.sql, logger);
  const store = new PostgresEventStore(connection.db, () => notifier.ring());
  const write = async (order: WriteOrder) => {
    let outgoing: [string, number][] = [];
    const flush = () => {
      if (outgoing.length > 0) send({ type: 'commits', commits: outgoing });
      outgoing = [];
    };
    const flusher = setInterval(flush, 5);
    try {
      return await pacedWrites(store, order, (transactionId, at) => outgoing.push([transactionId, at]));
    } finally {
      clearInterval(flusher);
      flush();
    }
  };
  process.on('message', (message: ToWriter) => {
    const handled =
      message.type === 'ping'
        ? Promise.resolve(send({ type: 'pong', at: now() }))
        : write(message).then((result) => send({ type: 'written', result }));
    handled.catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  });
  process.on('disconnect', () => void connection.close().finally(() => process.exit(0)));
};

// Only as the bench's child: a bench itself run under IPC (a test runner) must not answer here.
const databaseUrl = process.env.CAIRN_DELIVERY_WRITER_URL;
if (process.send && databaseUrl) {
  const send = process.send.bind(process);
  serve(databaseUrl, (message) => void send(message));
}
