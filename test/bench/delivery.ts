/**
 * Delivery, two figures:
 *
 * - `latency`: commit acknowledged → client holds the event, over SSE and graphql-ws, at a paced
 *   500 and 2,000 events/s with 1, 100 and 1,000 identical subscribers. Three processes, so that
 *   none starves another's event loop: this one runs one cairn server (no process managers) and
 *   its real HTTP server; a writer (test/bench/delivery-writer.ts) appends through the kernel
 *   store and rings the doorbell with NOTIFY, as another instance would; the subscribers run in
 *   test/bench/delivery-clients.ts. Each cell writes for BENCH_DELIVERY_MS, then allows
 *   BENCH_DELIVERY_DRAIN_MS for the backlog; what has not arrived by then counts as not
 *   delivered (every wait is bounded, so a saturated cell ends rather than hangs).
 * - `catch-up`: one subscriber from the first cursor of 200,000 events (seeded with bulk SQL),
 *   through the kernel's `subscribeToLog` and over SSE (optionally graphql-ws) → events/s.
 *
 * Standalone: `npx tsx test/bench/delivery.ts` (embedded PostgreSQL, or DATABASE_URL's server).
 * Knobs: BENCH_DELIVERY_RATES=500,2000 BENCH_DELIVERY_SUBSCRIBERS=1,100,1000 BENCH_DELIVERY_MS=3000
 * BENCH_DELIVERY_DRAIN_MS=3000 BENCH_DELIVERY_BATCH=10 BENCH_CATCH_UP_EVENTS=200000
 * BENCH_CATCH_UP_READERS=kernel,sse,ws,sse-full.
 *
 * `npm run bench` runs the two as parts of their own: BENCH_ONLY=delivery (latency) and
 * BENCH_ONLY=catch-up; catch-up's goal (issue 16) is ≥ 100,000 events/s over SSE and graphql-ws.
 */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { sql as drizzleSql } from 'drizzle-orm';
import postgres from 'postgres';
import { startApp, type App } from '../../src/app.js';
import { compareLogPositions, encodeCursor, logStart } from '../../src/eventstore/cursor.js';
import { subscribeToLog } from '../../src/eventstore/log-subscription.js';
import type { LogPosition } from '../../src/eventstore/types.js';
import type { Logger } from '../../src/logger.js';
import { createHttpServer, type HttpServer } from '../../src/server.js';
import type { CatchUpReport, CellReport, FromClients, ToClients, Transport } from './delivery-clients.js';
import { maxInFlight, type FromWriter, type ToWriter, type WriteResult } from './delivery-writer.js';
import type { Bar, Figure, FigureRunner, Goal } from './figure.js';
import { describePostgres, names, percentile, positive, positives, type Target } from './target.js';
import { runAlone } from './alone.js';

const transports: readonly Transport[] = ['sse', 'ws'];
const transportName: Record<Transport, string> = { sse: 'SSE', ws: 'graphql-ws' };
const aggregateType = 'BenchDelivery';
/**
 * With `after` (the newest event's cursor, read by the bench) rather than "from now", so every
 * client of a cell starts at the same event. The bench also checks that the server's "now"
 * (`Relay.head()`) is the newest event (`headLag`): it once sorted its text casts as text and
 * named an older position once ids gained a digit, which this bench found.
 */
const liveQuery = `subscription Live($after: String!) { events(after: $after, aggregateType: "${aggregateType}") { id position } }`;

type Settings = {
  readonly rates: readonly number[];
  readonly subscribers: readonly number[];
  readonly windowMs: number;
  readonly drainMs: number;
  readonly batch: number;
  readonly catchUpEvents: number;
  readonly catchUpReaders: readonly string[];
};

const readSettings = (): Settings => ({
  rates: positives('BENCH_DELIVERY_RATES', [500, 2_000]),
  subscribers: positives('BENCH_DELIVERY_SUBSCRIBERS', [1, 100, 1_000]),
  windowMs: positive('BENCH_DELIVERY_MS', 3_000),
  drainMs: positive('BENCH_DELIVERY_DRAIN_MS', 3_000),
  batch: positive('BENCH_DELIVERY_BATCH', 10),
  catchUpEvents: positive('BENCH_CATCH_UP_EVENTS', 200_000),
  catchUpReaders: names('BENCH_CATCH_UP_READERS', catchUpReaders, ['kernel', 'sse', 'ws', 'sse-full']),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The wall clock at sub-millisecond resolution, as the client process stamps receipts. */
const wallNow = () => performance.timeOrigin + performance.now();
const sorted = (values: readonly number[]) => Float64Array.from(values).sort();
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '–');
const share = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : Number.NaN);

/**
 * The newest event's position, read with aliases that differ from the column names: an ORDER BY
 * names an output column first, so ordering `transaction_id::text as transaction_id` sorts text.
 */
const newestEvent = async (app: App): Promise<LogPosition> => {
  const [row] = await app.services.db.execute<{ tid: string; pos: string }>(drizzleSql`
    select transaction_id::text as tid, position::text as pos from es.outbox
     where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     order by transaction_id desc, position desc limit 1`);
  return row ? { transactionId: BigInt(row.tid), position: BigInt(row.pos) } : logStart;
};

/** How many committed events lie between the server's "now" (`Relay.head()`) and the real newest. */
const headLag = async (app: App): Promise<{ head: LogPosition; newest: LogPosition; events: number }> => {
  const [head, newest] = await Promise.all([app.services.relay.head(), newestEvent(app)]);
  const [row] = await app.services.db.execute<{ n: string }>(drizzleSql`
    select count(*)::text as n from es.outbox
     where (transaction_id, position) > (${String(head.transactionId)}::xid8, ${String(head.position)}::bigint)
       and (transaction_id, position) <= (${String(newest.transactionId)}::xid8, ${String(newest.position)}::bigint)`);
  return { head, newest, events: Number(row?.n ?? 0) };
};

const until = async (done: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(10);
  }
};

/**
 * Waits for a starting relay to reach the newest event. It starts at `Relay.head()`; when that
 * lags (see `headNote`), it re-reads and hands out everything since, and the readers measured
 * here must not share the server with that.
 */
const settleRelay = async (app: App) => {
  const lag = await headLag(app);
  const started = performance.now();
  await until(() => compareLogPositions(app.services.relay.cursor, lag.newest) >= 0, 120_000, 'the relay to reach the newest event');
  return { ...lag, seconds: (performance.now() - started) / 1_000 };
};

export type Message = { readonly type: string };

/** A forked helper process, driven over IPC. */
export type Child<To extends Message, From extends Message> = {
  send(message: To): void;
  ask<T extends From['type']>(message: To, reply: T, timeoutMs: number): Promise<Extract<From, { type: T }>>;
  stop(): Promise<void>;
};

type Clients = Child<ToClients, FromClients>;
type Writer = Child<ToWriter, FromWriter>;

/**
 * Forks `script` (TypeScript, through tsx) and waits for its first `pong`. Messages that answer
 * no question go to `onMessage`; a `failed` message fails the question being asked.
 */
export const startChild = async <To extends Message, From extends Message>(
  name: string,
  script: string,
  env: Record<string, string>,
  onMessage: (message: From) => void = () => undefined,
): Promise<Child<To, From>> => {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiter: { type: string; resolve: (message: From) => void; reject: (error: Error) => void } | null = null;
  let exited: Error | null = null;
  child.on('message', (message: From) => {
    if (message.type === 'failed') return waiter?.reject(new Error(`${name}: ${(message as { error?: string }).error}`));
    if (waiter?.type === message.type) return waiter.resolve(message);
    onMessage(message);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`${name} exited (${signal ?? code})`);
    waiter?.reject(exited);
  });
  const handle: Child<To, From> = {
    send: (message) => void (child.connected && child.send(message)),
    ask: async (message, reply, timeoutMs) => {
      if (exited) throw exited;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise((resolve, reject) => {
          waiter = { type: reply, resolve: resolve as (message: From) => void, reject };
          timer = setTimeout(() => reject(new Error(`${name}: no ${reply} within ${timeoutMs} ms`)), timeoutMs);
          child.send(message);
        });
      } finally {
        clearTimeout(timer);
        waiter = null;
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.disconnect(); // it exits when its parent lets go
      if (!(await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)]))) {
        child.kill('SIGKILL');
        await gone;
      }
    },
  };
  try {
    await handle.ask({ type: 'ping' } as To, 'pong', 30_000);
    return handle;
  } catch (error) {
    await handle.stop();
    throw error;
  }
};

export type Offset = { readonly offsetMs: number; readonly roundTripMs: number };

/** The child's clock minus ours, from the IPC round trip (`ping` → its time) with the least delay. */
export const clockOffset = async (ping: () => Promise<number>): Promise<Offset> => {
  let best = { offsetMs: 0, roundTripMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 50; i++) {
    const sentAt = wallNow();
    const at = await ping();
    const back = wallNow();
    if (back - sentAt < best.roundTripMs) best = { offsetMs: at - (sentAt + back) / 2, roundTripMs: back - sentAt };
  }
  return best;
};

type Server = { readonly app: App; readonly http: HttpServer; readonly base: string; close(): Promise<void> };

const startServer = async (target: Target, logger: Logger): Promise<Server> => {
  const app = await startApp({ databaseUrl: target.url, logger, relayPollMs: 1_000, poolSize: maxInFlight + 16, processManagers: [] });
  try {
    const http = createHttpServer(app.services);
    await new Promise<void>((resolve, reject) => http.server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = http.server.address() as AddressInfo;
    return {
      app,
      http,
      base: `http://127.0.0.1:${port}`,
      close: async () => {
        await http.close();
        await app.close();
      },
    };
  } catch (error) {
    await app.close();
    throw error;
  }
};

/** Busy and total CPU time of the whole machine (every process, ours or not), in ms. */
const machineTimes = () =>
  cpus().reduce(
    (sum, { times }) => {
      const busy = times.user + times.nice + times.sys + times.irq;
      return { busy: sum.busy + busy, total: sum.total + busy + times.idle };
    },
    { busy: 0, total: 0 },
  );

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1_000;
};

type Cell = {
  readonly rate: number;
  readonly transport: Transport;
  readonly subscribers: number;
  readonly written: WriteResult;
  readonly report: CellReport;
  /** Commit acknowledged → the relay hands the event to its listeners, in the server process. */
  readonly relayP50: number;
  readonly relayP99: number;
  /** Of the transactions written, the % the relay handed out by the deadline. */
  readonly relayShare: number;
  /** In % of one core: server and clients over write window + drain, the writer over its window. */
  readonly serverCpu: number;
  readonly clientCpu: number;
  readonly writerCpu: number;
  /** From the first write until the server process heard the clients' report. */
  readonly serverWallMs: number;
  /** The server's longest event-loop stall over that time (perf_hooks event-loop delay, max). */
  readonly stallMs: number;
  /** In % of the whole machine. */
  readonly machineBusy: number;
  readonly overflows: number;
  /** Opening the subscribers until the server holds them all; the clients closing until it let go of them. */
  readonly openMs: number;
  readonly releaseMs: number;
};

/**
 * Commit acknowledgements and relay hand-outs by transaction id, in this process's wall clock.
 * The writer's acknowledgements arrive in its clock and leave for the clients in theirs, each
 * shifted by the offset measured over IPC.
 */
class Timeline {
  readonly acknowledged = new Map<string, number>();
  readonly handedOut = new Map<string, number>();
  private deadlineAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clients: Clients,
    readonly writerOffset: Offset,
    readonly clientsOffset: Offset,
  ) {}

  listen(server: Server): () => void {
    return server.app.services.relay.subscribe(
      (batch) => {
        const at = wallNow();
        if (at > this.deadlineAt) return;
        for (const event of batch) {
          const transactionId = String(event.logPosition.transactionId);
          if (!this.handedOut.has(transactionId)) this.handedOut.set(transactionId, at);
        }
      },
      () => undefined,
    );
  }

  committed(commits: readonly (readonly [string, number])[]): void {
    const forward = commits.map(([transactionId, writerAt]): [string, number] => {
      const at = writerAt - this.writerOffset.offsetMs;
      this.acknowledged.set(transactionId, at);
      return [transactionId, at + this.clientsOffset.offsetMs];
    });
    this.clients.send({ type: 'commits', commits: forward });
  }

  /** Acknowledged → handed out, for the transactions the relay handed out before the deadline. */
  relayLatencies(): Float64Array {
    const samples: number[] = [];
    for (const [transactionId, at] of this.acknowledged) {
      const handedOut = this.handedOut.get(transactionId);
      if (handedOut !== undefined) samples.push(Math.max(0, handedOut - at));
    }
    return sorted(samples);
  }

  /** Clears the last cell's times; hand-outs after `deadlineAt` will not count. */
  reset(deadlineAt: number): void {
    this.acknowledged.clear();
    this.handedOut.clear();
    this.deadlineAt = deadlineAt;
  }
}

type CellContext = { server: Server; clients: Clients; writer: Writer; timeline: Timeline; settings: Settings };
type CellSpec = { rate: number; transport: Transport; subscribers: number; windowMs: number };

/** Opens the cell's subscribers, waits for the server to hold them all, measures, then closes them. */
const runCell = async (context: CellContext, cell: CellSpec): Promise<Cell> => {
  const { server, clients } = context;
  const relay = server.app.services.relay;
  const idle = relay.listenerCount;
  const opening = performance.now();
  const after = encodeCursor(await newestEvent(server.app));
  let measured: Omit<Cell, 'openMs' | 'releaseMs'>;
  let openMs: number;
  // When the server let go of the cell's subscriptions, as seen whenever its event loop is free.
  let releasedAt = Number.NaN;
  const watch = setInterval(() => {
    if (Number.isNaN(releasedAt) && openMs !== undefined && relay.listenerCount <= idle) releasedAt = wallNow();
  }, 5);
  try {
    await clients.ask(
      { type: 'open', transport: cell.transport, count: cell.subscribers, base: server.base, query: liveQuery, variables: { after } },
      'opened',
      120_000,
    );
    await until(() => relay.listenerCount >= idle + cell.subscribers, 30_000, `${cell.subscribers} ${cell.transport} subscriptions`);
    openMs = performance.now() - opening;
    measured = await measureCell(context, cell);
    await until(() => relay.listenerCount <= idle, 60_000, 'closed subscriptions to leave the relay');
    if (Number.isNaN(releasedAt)) releasedAt = wallNow();
  } finally {
    clearInterval(watch);
    await clients.ask({ type: 'close' }, 'closed', 60_000);
  }
  const closedAt = measured.report.closedAt - context.timeline.clientsOffset.offsetMs;
  return { ...measured, openMs, releaseMs: Math.max(0, releasedAt - closedAt) };
};

const measureCell = async (context: CellContext, cell: CellSpec): Promise<Omit<Cell, 'openMs' | 'releaseMs'>> => {
  const { server, clients, writer, timeline, settings } = context;
  const relay = server.app.services.relay;
  // One deadline for the cell, fixed before the first write: whatever arrives later, however
  // late a busy server process passes messages on, does not count.
  const deadlineAt = wallNow() + cell.windowMs + settings.drainMs;
  timeline.reset(deadlineAt);
  clients.send({ type: 'mark', deadlineAt: deadlineAt + timeline.clientsOffset.offsetMs });
  const marked = performance.now();
  const cpu = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const machine = machineTimes();
  const overflows = relay.overflows;
  const { result: written } = await writer.ask(
    { type: 'write', rate: cell.rate, batch: settings.batch, durationMs: cell.windowMs, aggregateType },
    'written',
    cell.windowMs + 60_000,
  );
  const { report } = await clients.ask({ type: 'collect', events: written.events }, 'collected', settings.drainMs + 60_000);
  const serverWallMs = performance.now() - marked;
  loop.disable();
  const machineAfter = machineTimes();
  const relayLatencies = timeline.relayLatencies();
  return {
    ...cell,
    written,
    report,
    relayP50: percentile(relayLatencies, 50),
    relayP99: percentile(relayLatencies, 99),
    relayShare: share(relayLatencies.length, written.transactions),
    serverCpu: share(cpuMs(cpu), serverWallMs),
    serverWallMs,
    stallMs: loop.max / 1e6,
    clientCpu: share(report.cpuMs, report.cpuWallMs),
    writerCpu: share(written.cpuMs, cell.windowMs),
    machineBusy: share(machineAfter.busy - machine.busy, machineAfter.total - machine.total),
    overflows: relay.overflows - overflows,
  };
};

const describeCell = (cell: Cell) =>
  `${cell.rate} events/s, ${cell.subscribers} ${transportName[cell.transport]}: ${count(cell.report.delivered)} of ${count(cell.report.expected)} delivered ` +
  `(${cell.report.duplicates} dup, ${cell.report.outOfOrder} out of order, ${cell.report.errors} errors, ${cell.report.unmatched} unmatched), ` +
  `p50 ${ms(cell.report.p50)} / p99 ${ms(cell.report.p99)} / max ${ms(cell.report.max)} ms; written ${count(cell.written.rate)}/s; ` +
  `server ${cell.serverCpu.toFixed(0)} %, clients ${cell.clientCpu.toFixed(0)} %, writer ${cell.writerCpu.toFixed(0)} % of a core, machine ${cell.machineBusy.toFixed(0)} %; ` +
  `open ${(cell.openMs / 1_000).toFixed(1)} s, measured ${(cell.report.wallMs / 1_000).toFixed(1)} s (server ${(cell.serverWallMs / 1_000).toFixed(1)} s, stall ${ms(cell.stallMs)} ms), released ${(cell.releaseMs / 1_000).toFixed(1)} s after the clients closed`;

/** What ran out: a Node process near one core (one event loop), or the machine. */
const saturation = (cell: Cell) => {
  const parts: string[] = [];
  if (cell.serverCpu >= 85) parts.push(`the server process (${cell.serverCpu.toFixed(0)} % of a core: one event loop)`);
  if (cell.clientCpu >= 85) parts.push(`the client process (${cell.clientCpu.toFixed(0)} %)`);
  if (cell.machineBusy >= 85) parts.push(`the machine (${cell.machineBusy.toFixed(0)} % busy)`);
  return parts.length > 0
    ? parts.join(', ')
    : `nothing reached 85 % (server ${cell.serverCpu.toFixed(0)} %, clients ${cell.clientCpu.toFixed(0)} %, machine ${cell.machineBusy.toFixed(0)} %)`;
};

/** Deliveries per second the cell asked of the server: what was written, times its subscribers. */
const asked = (cell: Cell) => cell.written.rate * cell.subscribers;

const latencyNotes = (cells: readonly Cell[], settings: Settings): string[] => {
  const notes: string[] = [];
  const short = cells.filter((cell) => cell.report.delivered < cell.report.expected);
  for (const cell of short) {
    notes.push(
      `${count(cell.written.rate)} events/s × ${count(cell.subscribers)} ${transportName[cell.transport]} asked ${count(asked(cell))} deliveries/s: ` +
        `${share(cell.report.delivered, cell.report.expected).toFixed(1)} % arrived within the window + ${settings.drainMs / 1_000} s ` +
        `(${count(cell.report.delivered / (cell.report.wallMs / 1_000))} deliveries/s over it); saturated: ${saturation(cell)}. ` +
        'Its latencies are those of the events that did arrive, queueing included.',
    );
  }
  const starved = cells.filter((cell) => cell.relayShare < 100);
  if (starved.length > 0) {
    notes.push(
      `The relay runs on the server's event loop: in ${starved.length} saturated cell(s) it had handed out only ` +
        `${starved.map((cell) => `${cell.relayShare.toFixed(0)} %`).join(', ')} of the transactions by the deadline, ` +
        'so fan-out work delays reading the next batch and the queue builds before the transports.',
    );
  }
  const stalled = cells.filter((cell) => cell.stallMs > 1_000);
  if (stalled.length > 0) {
    const worst = stalled.reduce((a, b) => (a.stallMs >= b.stallMs ? a : b));
    notes.push(
      `In ${stalled.length} cell(s) the server's event loop stalled for up to ${(worst.stallMs / 1_000).toFixed(1)} s at a time ` +
        `(${count(worst.written.rate)} events/s × ${count(worst.subscribers)} ${transportName[worst.transport]}; perf_hooks event-loop delay, max). ` +
        'The relay hands each batch it reads (up to 500 events) to every subscriber at once, and the subscribers work through it in promise callbacks ' +
        'without the event loop getting a turn in between: meanwhile the server answers no request, notices no disconnect and does not read the next batch. ' +
        `Subscriptions whose clients had closed were released up to ${(Math.max(...stalled.map((cell) => cell.releaseMs)) / 1_000).toFixed(1)} s later.`,
    );
  }
  if (short.length > 0) {
    notes.push(
      'Where a saturated server process spends its time (profiled once with `node --cpu-prof` while writing this bench, 2,000 events/s × 1,000 subscribers, ' +
        'not re-measured by each run): about 40 % of its busy time in `writev` (socket writes: at least one per subscriber per tick), 11 % in GC, ' +
        "most of the rest in each subscriber's async-iterator chain (the log subscription's generator, envelop and whatwg-node promise helpers, yoga's SSE encoder). " +
        'Sharing the execution and JSON removes the per-subscriber GraphQL work, not the per-subscriber socket and iterator work.',
    );
  }
  const full = cells.filter((cell) => cell.report.delivered >= cell.report.expected);
  if (full.length > 0) {
    const best = full.reduce((a, b) => (asked(a) >= asked(b) ? a : b));
    notes.push(
      `Most delivered in full: ${count(asked(best))} deliveries/s (${count(best.written.rate)} events/s × ${count(best.subscribers)} ${transportName[best.transport]}), ` +
        `server process at ${best.serverCpu.toFixed(0)} % and clients at ${best.clientCpu.toFixed(0)} % of a core, p99 ${ms(best.report.p99)} ms.`,
    );
  }
  const total = (pick: (cell: Cell) => number) => cells.reduce((sum, cell) => sum + pick(cell), 0);
  const duplicates = total((cell) => cell.report.duplicates);
  const outOfOrder = total((cell) => cell.report.outOfOrder);
  const errors = total((cell) => cell.report.errors);
  const unmatched = total((cell) => cell.report.unmatched);
  const firstError = cells.find((cell) => cell.report.firstError)?.report.firstError;
  notes.push(
    duplicates + outOfOrder + errors + unmatched === 0
      ? 'Every client checked the (transaction, position) of each event it got: no duplicate, none out of order, no error, and every delivered event matched an acknowledged commit.'
      : `INTEGRITY: ${duplicates} duplicate(s), ${outOfOrder} out of order, ${errors} error payload(s), ${unmatched} delivery(ies) without an acknowledged commit` +
          `${firstError ? ` (first error: ${firstError})` : ''}.`,
  );
  const failures = total((cell) => cell.written.failures);
  if (failures > 0) notes.push(`${failures} write transaction(s) failed (first: ${cells.find((cell) => cell.written.firstFailure)?.written.firstFailure}).`);
  const late = cells.filter((cell) => cell.written.maxLateMs > 100 || cell.written.skipped > 0);
  if (late.length > 0) {
    notes.push(
      `The writer fell behind its schedule (by up to ${ms(Math.max(...late.map((cell) => cell.written.maxLateMs)))} ms, ` +
        `${total((cell) => cell.written.skipped)} transactions not started in time) in ${late.length} cell(s); "written/s" is what was acknowledged.`,
    );
  }
  return notes;
};

const position = (at: LogPosition) => `(${at.transactionId}, ${at.position})`;

const headNote = (lag: Awaited<ReturnType<typeof headLag>>): string[] =>
  lag.events === 0
    ? []
    : [
        `"From now" is behind: after the run, the server's \`Relay.head()\` names ${position(lag.head)} while the newest commit-safe event is ${position(lag.newest)}, ` +
          `${count(lag.events)} events earlier; a subscription without \`after\` would first replay those events. The subscribers here pass \`after\`.`,
      ];

const latencyFigure = (cells: readonly Cell[], setup: readonly string[], notes: readonly string[]): Figure => {
  const key = (cell: Cell) => `${cell.transport}/${cell.rate}/${cell.subscribers}`;
  const values: Record<string, number> = {};
  for (const cell of cells) {
    values[`p50@${key(cell)}`] = cell.report.p50;
    values[`p99@${key(cell)}`] = cell.report.p99;
    values[`max@${key(cell)}`] = cell.report.max;
    values[`delivered@${key(cell)}`] = cell.report.delivered / cell.report.expected;
  }
  const bars: Bar[] = cells.map((cell) => ({
    group: `delivery p99, ${count(cell.rate)} events/s`,
    label: `${transportName[cell.transport]} × ${count(cell.subscribers)}${cell.report.delivered < cell.report.expected ? ` (${share(cell.report.delivered, cell.report.expected).toFixed(0)} % delivered)` : ''}`,
    value: cell.report.p99,
    unit: 'ms',
  }));
  return {
    id: 'latency',
    title: 'Delivery latency, commit to client',
    setup,
    columns: [
      'events/s',
      'transport',
      'subscribers',
      'written/s',
      'delivered',
      'deliveries/s',
      'relay p50 / p99 ms',
      'p50 ms',
      'p99 ms',
      'max ms',
      'CPU server / clients / writer',
      'server loop stall ms',
      'machine busy',
      'overflows',
    ],
    rows: cells.map((cell) => [
      count(cell.rate),
      transportName[cell.transport],
      count(cell.subscribers),
      count(cell.written.rate),
      cell.report.delivered >= cell.report.expected
        ? count(cell.report.delivered)
        : `${count(cell.report.delivered)} / ${count(cell.report.expected)} (${share(cell.report.delivered, cell.report.expected).toFixed(1)} %)`,
      count(cell.report.delivered / (cell.report.wallMs / 1_000)),
      `${ms(cell.relayP50)} / ${ms(cell.relayP99)}${cell.relayShare < 100 ? ` (${cell.relayShare.toFixed(0)} % handed out)` : ''}`,
      ms(cell.report.p50),
      ms(cell.report.p99),
      ms(cell.report.max),
      `${cell.serverCpu.toFixed(0)} / ${cell.clientCpu.toFixed(0)} / ${cell.writerCpu.toFixed(0)} %`,
      ms(cell.stallMs),
      `${cell.machineBusy.toFixed(0)} %`,
      cell.overflows,
    ]),
    notes,
    bars,
    values,
  };
};

type FigureContext = {
  readonly target: Target;
  readonly logger: Logger;
  readonly progress: (line: string) => void;
  readonly clients: Clients;
  readonly settings: Settings;
  /** The setup line naming the database server and its durability settings. */
  readonly database: string;
};

const measureLatency = async (context: FigureContext): Promise<Figure> => {
  const { target, logger, progress, clients, settings } = context;
  const server = await startServer(target, logger);
  let timeline: Timeline | undefined;
  let writer: Writer | undefined;
  let stopListening = () => undefined as void;
  try {
    await settleRelay(server.app);
    writer = await startChild<ToWriter, FromWriter>('writer process', './delivery-writer.ts', { CAIRN_DELIVERY_WRITER_URL: target.url }, (message) => {
      if (message.type === 'commits') timeline?.committed(message.commits);
    });
    // A filter on an aggregate type the log has never seen is VALIDATION_FAILED: write one batch first.
    await writer.ask({ type: 'write', rate: 100, batch: settings.batch, durationMs: 100, aggregateType }, 'written', 30_000);
    const pingWriter = () => writer!.ask({ type: 'ping' }, 'pong', 5_000).then(({ at }) => at);
    const pingClients = () => clients.ask({ type: 'ping' }, 'pong', 5_000).then(({ at }) => at);
    const before = { writer: await clockOffset(pingWriter), clients: await clockOffset(pingClients) };
    timeline = new Timeline(clients, before.writer, before.clients);
    stopListening = timeline.listen(server);
    const base: CellContext = { server, clients, writer, timeline, settings };
    progress(
      `delivery: clock offsets, writer ${before.writer.offsetMs.toFixed(3)} ms, clients ${before.clients.offsetMs.toFixed(3)} ms ` +
        `(round trips ${before.writer.roundTripMs.toFixed(3)} / ${before.clients.roundTripMs.toFixed(3)} ms); warming up`,
    );
    for (const transport of transports) await runCell(base, { rate: 500, transport, subscribers: 10, windowMs: 1_000 });
    const cells: Cell[] = [];
    for (const rate of settings.rates) {
      for (const subscribers of settings.subscribers) {
        for (const transport of transports) {
          const cell = await runCell(base, { rate, transport, subscribers, windowMs: settings.windowMs });
          progress(`delivery: ${describeCell(cell)}`);
          cells.push(cell);
        }
      }
    }
    const after = { writer: await clockOffset(pingWriter), clients: await clockOffset(pingClients) };
    const lag = await headLag(server.app);
    const offsets = (name: 'writer' | 'clients') =>
      `${name} ${before[name].offsetMs.toFixed(3)} ms before and ${after[name].offsetMs.toFixed(3)} ms after (round trip ≥ ${Math.min(before[name].roundTripMs, after[name].roundTripMs).toFixed(3)} ms)`;
    const setup = [
      context.database,
      `one cairn server (no process managers, relay safety poll 1 s) and its HTTP server on 127.0.0.1, in the bench process; ${settings.rates.map(count).join(' and ')} events/s, ` +
        `each cell writing for ${settings.windowMs / 1_000} s; first a 1 s warm-up per transport (500 events/s, 10 subscribers)`,
      `writer: a child process appending through the kernel store (\`PostgresEventStore\` on a pool of its own, coalesced NOTIFY after commit, as another instance; the server's relay hears it over LISTEN); ` +
        `each transaction appends ${settings.batch} events to a new stream (expected version 0), so ${settings.rates.map((rate) => count(rate / settings.batch)).join(' and ')} transactions/s ` +
        `on an open-loop schedule (at most ${maxInFlight} in flight; what is not started within the window is not written); event data \`{ serial, index }\` (~30 bytes)`,
      `subscribers: ${settings.subscribers.map(count).join(', ')} clients in a second child process, all running \`${liveQuery}\` with \`after\` = the newest event's cursor ` +
        'when the cell opens (same operation and variables, so cairn shares its execution and JSON); ' +
        'a cell is all SSE (node:http, text/event-stream) or all graphql-ws (the bare protocol on `ws`), never mixed',
      `latency: commit acknowledged to the writer → the client process receives the socket chunk holding the event, per delivery, in an HDR histogram (µs, 3 digits); ` +
        `delivered: what arrived by a deadline fixed when the cell starts writing, write window + ${settings.drainMs / 1_000} s; ` +
        '"relay": acknowledged → the server\'s relay hands the transaction\'s events out, for what it handed out by the deadline',
      `clocks: every process stamps \`performance.timeOrigin + performance.now()\`; times cross processes shifted by offsets measured over IPC: ${offsets('writer')}, ${offsets('clients')}; ` +
        'a receipt stamped before its acknowledgement counts as 0',
      'CPU in % of one core: server process (server, relay, HTTP) and client process over write window + drain, writer over its window; machine busy in % of all cores, ' +
        'other work on the machine included; overflows: subscribers whose 10,000-event live buffer overflowed (they read the table instead)',
    ];
    return latencyFigure(cells, setup, [...latencyNotes(cells, settings), ...headNote(lag)]);
  } finally {
    stopListening();
    await writer?.stop();
    await server.close();
  }
};

const catchUpType = 'BenchCatchUp';
const eventsPerStream = 100;
const eventsPerTransaction = 50_000;

/**
 * `total` events of ~1 kB in transactions of 50,000, 100 per stream, with their stream and
 * outbox rows, as the append path would write them; then VACUUM ANALYZE so that neither reader
 * pays for setting hint bits, and a CHECKPOINT so that the checkpointer does not flush the seeding
 * while they read. Returns the first event's position and how long the seeding took.
 */
const seed = async (url: string, total: number): Promise<{ first: LogPosition; seconds: number }> => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  const started = performance.now();
  try {
    for (let from = 0; from < total; from += eventsPerTransaction) {
      const to = Math.min(total, from + eventsPerTransaction) - 1;
      await client.begin(
        (sql) => sql`
        with inserted as (
          insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
          select 'evt_catch_up_' || lpad(g::text, 9, '0'), 'bench-catch-up-' || (g / ${eventsPerStream}), ${catchUpType},
                 g % ${eventsPerStream} + 1, 'BenchCatchUpRecorded',
                 jsonb_build_object('n', g, 'pad', repeat(md5(g::text), 30)),
                 '{"correlationId": "bench-catch-up", "causationId": "bench-catch-up"}'::jsonb, now()
            from generate_series(${from}::int, ${to}::int) g
           order by g
          returning position, aggregate_id, aggregate_type, type, version
        ), outboxed as (
          insert into es.outbox (position, aggregate_type, type) select position, aggregate_type, type from inserted
        )
        insert into es.streams (aggregate_id, aggregate_type, version)
        select aggregate_id, min(aggregate_type), max(version) from inserted group by aggregate_id`,
      );
    }
    await client`vacuum (analyze) es.events, es.outbox, es.streams`;
    await client`checkpoint`;
    // Aliases unlike the column names, so that the ORDER BY sorts the columns, not their text.
    const [row] = await client<{ tid: string; pos: string }[]>`
      select transaction_id::text as tid, position::text as pos from es.events
       where aggregate_type = ${catchUpType} order by transaction_id, position limit 1`;
    return {
      first: { transactionId: BigInt(row!.tid), position: BigInt(row!.pos) },
      seconds: (performance.now() - started) / 1_000,
    };
  } finally {
    await client.end({ timeout: 5 });
  }
};

type CatchUp = {
  /** Its BENCH_CATCH_UP_READERS name, and what the table calls it. */
  readonly name: string;
  readonly reader: string;
  readonly expected: number;
  readonly received: number;
  readonly seconds: number;
  readonly firstMs: number;
  readonly readerCpu: number;
  readonly serverCpu: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly errors: number;
  readonly firstError?: string;
};

/** The kernel alone: `subscribeToLog` in the server process, from the first event's position. */
const kernelCatchUp = async (app: App, after: LogPosition, expected: number, deadlineMs: number): Promise<CatchUp> => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const events = subscribeToLog(app.services.relay, app.services.store, { after });
  // Ends the subscription from outside if it stalls: the loop below then sees it finish.
  const watchdog = setTimeout(() => void events.return(undefined), deadlineMs);
  let received = 0;
  let firstAt = Number.NaN;
  let lastAt = Number.NaN;
  let last = after;
  let duplicates = 0;
  let outOfOrder = 0;
  try {
    for await (const event of events) {
      lastAt = performance.now();
      if (received === 0) firstAt = lastAt;
      const order = compareLogPositions(event.logPosition, last);
      if (order === 0) duplicates += 1;
      else if (order < 0) outOfOrder += 1;
      else last = event.logPosition;
      if (++received >= expected) break;
    }
  } finally {
    clearTimeout(watchdog);
  }
  const serverCpu = cpuMs(cpu);
  return {
    name: 'kernel',
    reader: 'kernel `subscribeToLog` (server process, page 500)',
    expected,
    received,
    seconds: (lastAt - started) / 1_000,
    firstMs: firstAt - started,
    readerCpu: share(serverCpu, lastAt - started),
    serverCpu: share(serverCpu, lastAt - started),
    duplicates,
    outOfOrder,
    errors: 0,
  };
};

const remoteCatchUp = async (
  server: Server,
  clients: Clients,
  variant: { name: string; reader: string; transport: Transport; query: string },
  after: string,
  expected: number,
  deadlineMs: number,
): Promise<CatchUp> => {
  const idle = server.app.services.relay.listenerCount;
  const cpu = process.cpuUsage();
  const { report } = await clients.ask(
    { type: 'catch-up', transport: variant.transport, base: server.base, query: variant.query, variables: { after }, events: expected, deadlineMs },
    'caught-up',
    deadlineMs + 60_000,
  );
  const serverCpuMs = cpuMs(cpu);
  const wallMs = report.lastAt - report.startedAt;
  // The server lets go of the subscription once it sees the socket close.
  await until(() => server.app.services.relay.listenerCount <= idle, 30_000, 'the catch-up subscription to leave the relay');
  return fromReport(variant, expected, report, wallMs, serverCpuMs);
};

const fromReport = (
  variant: { name: string; reader: string },
  expected: number,
  report: CatchUpReport,
  wallMs: number,
  serverCpuMs: number,
): CatchUp => ({
  name: variant.name,
  reader: variant.reader,
  expected,
  received: report.received,
  seconds: wallMs / 1_000,
  firstMs: report.firstAt - report.startedAt,
  readerCpu: share(report.cpuMs, wallMs),
  serverCpu: share(serverCpuMs, wallMs),
  duplicates: report.duplicates,
  outOfOrder: report.outOfOrder,
  errors: report.errors,
  ...(report.firstError !== undefined && { firstError: report.firstError }),
});

const fullSelection = 'id position aggregateId aggregateType version type data metadata occurredAt recordedAt';
const catchUpQuery = (selection: string) => `subscription CatchUp($after: String!) { events(after: $after) { ${selection} } }`;

/** The readers of the catch-up figure besides `kernel`, by their BENCH_CATCH_UP_READERS name. */
const remoteReaders = {
  sse: { reader: 'SSE, `{ id position }`', transport: 'sse', query: catchUpQuery('id position') },
  ws: { reader: 'graphql-ws, `{ id position }`', transport: 'ws', query: catchUpQuery('id position') },
  'sse-full': { reader: 'SSE, every field (~1.3 kB of JSON per event)', transport: 'sse', query: catchUpQuery(fullSelection) },
} as const satisfies Record<string, { reader: string; transport: Transport; query: string }>;
const catchUpReaders = ['kernel', ...Object.keys(remoteReaders)];
/** Events each transport reads once, unmeasured, before the measured readers. */
const warmUpEvents = 2_000;

const measureCatchUp = async (context: FigureContext): Promise<Figure> => {
  const { target, logger, progress, clients, settings } = context;
  const total = settings.catchUpEvents;
  progress(`catch-up: seeding ${count(total)} events`);
  const seeded = await seed(target.url, total);
  const expected = total - 1; // strictly after the first event's position
  const after = encodeCursor(seeded.first);
  const deadlineMs = 45_000;
  progress(`catch-up: seeded in ${seeded.seconds.toFixed(1)} s; reading ${count(expected)} events back`);
  // A server started after the seeding: its relay begins at the head, so nothing is live.
  const server = await startServer(target, logger);
  const results: CatchUp[] = [];
  let relayStart: Awaited<ReturnType<typeof settleRelay>> | undefined;
  const warmUps: CatchUp[] = [];
  try {
    relayStart = await settleRelay(server.app);
    // Unmeasured: the first subscription of a process loads graphql-jit and V8 compiles the paths
    // an event takes, which whichever reader came first paid for. Each transport reads the first
    // events once; the notes report when their first events came.
    for (const name of new Set(settings.catchUpReaders.map((reader) => remoteReaders[reader as keyof typeof remoteReaders]?.transport).filter(Boolean))) {
      const variant = name === 'sse' ? remoteReaders.sse : remoteReaders.ws;
      warmUps.push(await remoteCatchUp(server, clients, { name: `warm-up ${name}`, ...variant }, after, Math.min(warmUpEvents, expected), deadlineMs));
    }
    for (const name of settings.catchUpReaders) {
      const variant = remoteReaders[name as keyof typeof remoteReaders];
      results.push(
        name === 'kernel'
          ? await kernelCatchUp(server.app, seeded.first, expected, deadlineMs)
          : await remoteCatchUp(server, clients, { name, ...variant }, after, expected, deadlineMs),
      );
      progress(`catch-up: ${describeCatchUp(results.at(-1)!)}`);
    }
  } finally {
    await server.close();
  }
  const transportOf = (warmUp: CatchUp) => warmUp.reader.split(',')[0];
  const coldNote = warmUps[0]
    ? [
        `Warm-up, not measured, before the readers above: ${warmUps.map(transportOf).join(', then ')}, each reading the first ${count(warmUps[0].received)} events. ` +
          `Their first events came after ${warmUps.map((warmUp) => `${ms(warmUp.firstMs)} ms (${transportOf(warmUp)})`).join(' and ')}: the server process's first subscription loads graphql-jit, and graphql-js serves its events until it has.`,
      ]
    : [];
  const relayNote =
    relayStart && relayStart.events > 0
      ? [
          `The server's relay started at \`Relay.head()\` = ${position(relayStart.head)}, ${count(relayStart.events)} events before the newest ${position(relayStart.newest)} ` +
            `and took ${relayStart.seconds.toFixed(1)} s to re-read them before the readers started.`,
        ]
      : [];
  return catchUpFigure(results, [...coldNote, ...relayNote], [
    context.database,
    `${count(total)} events seeded with bulk SQL in transactions of ${count(eventsPerTransaction)} (${eventsPerStream} events per stream, stream and outbox rows included), ` +
      `data \`{ n, pad }\` of ~1 kB (pad: 960 characters of md5 hex), then VACUUM ANALYZE: ${seeded.seconds.toFixed(1)} s in all`,
    `each reader starts after the first seeded event's position (\`events(after: …)\`) and stops at the last (${count(expected)} events); ` +
      `no writes meanwhile; a server started after the seeding, so the whole read is catch-up from the table (pages of 500), warm cache; ` +
      `before the measured readers, each transport reads the first ${count(warmUpEvents)} events once (not measured, see the notes)`,
    'events/s: events ÷ (subscription request → last event received); SSE and graphql-ws clients in a child Node process; CPU in % of one core',
  ]);
};

const describeCatchUp = (result: CatchUp) =>
  `${result.reader}: ${count(result.received)} events in ${result.seconds.toFixed(1)} s = ${count(result.received / result.seconds)} events/s`;

const catchUpFigure = (results: readonly CatchUp[], extraNotes: readonly string[], setup: readonly string[]): Figure => {
  const notes: string[] = [...extraNotes];
  for (const result of results) {
    if (result.received < result.expected) notes.push(`${result.reader}: only ${count(result.received)} of ${count(result.expected)} within the deadline${result.firstError ? ` (${result.firstError})` : ''}.`);
    if (result.duplicates + result.outOfOrder + result.errors > 0) {
      notes.push(`INTEGRITY, ${result.reader}: ${result.duplicates} duplicate(s), ${result.outOfOrder} out of order, ${result.errors} error(s).`);
    }
  }
  if (notes.length === extraNotes.length) notes.push('Every reader got every event once, in (transaction, position) order.');
  const bars: Bar[] = results.map((result) => ({ group: 'catch-up from the first cursor', label: result.reader, value: result.received / result.seconds, unit: 'events/s' }));
  // Issue 16: over both transports, the `{ id position }` readers, every event once and in order.
  const goals: Goal[] = (['sse', 'ws'] as const).map((name) => {
    const result = results.find((candidate) => candidate.name === name);
    const rate = result ? result.received / result.seconds : Number.NaN;
    const whole = result !== undefined && result.received >= result.expected && result.duplicates + result.outOfOrder + result.errors === 0;
    return {
      goal: `catch-up over ${name === 'sse' ? 'SSE' : 'graphql-ws'} from the first cursor (${count(result?.expected ?? 0)} events, \`{ id position }\`)`,
      target: '≥ 100,000 events/s, every event once, in order',
      result: result ? `${count(rate)} events/s${whole ? '' : ' (incomplete or out of order)'}` : 'not run (BENCH_CATCH_UP_READERS)',
      met: result ? rate >= 100_000 && whole : undefined,
    };
  });
  return {
    id: 'catch-up',
    title: `Catch-up: one subscriber from the first of ${count(results[0]?.expected ?? 0)} events`,
    setup,
    columns: ['reader', 'events', 'seconds', 'events/s', 'first event ms', 'reader CPU', 'server CPU'],
    rows: results.map((result) => [
      result.reader,
      count(result.received),
      result.seconds.toFixed(2),
      count(result.received / result.seconds),
      ms(result.firstMs),
      `${result.readerCpu.toFixed(0)} %`,
      `${result.serverCpu.toFixed(0)} %`,
    ]),
    notes,
    goals,
    bars,
    values: Object.fromEntries(results.map((result) => [`catch-up@${result.name}`, result.received / result.seconds])),
  };
};

/** Runs `measure` with the delivery clients' process, which it stops afterwards. */
const withClients = async <T>(context: { target: Target; logger: Logger; progress: (line: string) => void }, measure: (figureContext: FigureContext) => Promise<T>): Promise<T> => {
  const settings = readSettings();
  const database = await describePostgres(context.target);
  const clients = await startChild<ToClients, FromClients>('client process', './delivery-clients.ts', { CAIRN_DELIVERY_CLIENTS: '1' });
  try {
    return await measure({ ...context, clients, settings, database });
  } finally {
    await clients.stop();
  }
};

/** Delivery latency (`BENCH_ONLY=delivery`). */
export const delivery: FigureRunner = async (context) => [await withClients(context, measureLatency)];

/** Catch-up from the first cursor (`BENCH_ONLY=catch-up`), on a fresh database: its readers share the server with nothing. */
export const catchUp: FigureRunner = async (context) => [await withClients(context, measureCatchUp)];

await runAlone(import.meta.url, 'delivery', catchUp, delivery);
