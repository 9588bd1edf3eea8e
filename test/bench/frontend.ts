/**
 * Frontend-shaped fan-out (issue 16, goal 2, second part): every subscriber watches one account
 * of its own (`accountChanged`), while credits hit random accounts at a steady rate.
 *
 * Three processes besides the bench: one cairn server (test/bench/cairn-server.ts, no process
 * managers), the subscribers (test/bench/frontend-clients.ts: graphql-ws, BENCH_FRONTEND_PER_SOCKET
 * subscriptions multiplexed on each socket) and a writer (test/bench/frontend-writer.ts:
 * `accountAggregate.handle` through the kernel store with NOTIFY after commit, as another
 * instance taking the commands). BENCH_FRONTEND_ACCOUNTS accounts are opened first; each cell
 * subscribes to the first N of them, then credits random accounts among those N for
 * BENCH_FRONTEND_MS (one push per credit in every cell). Latency: the writer's commit acknowledged → the subscriber's push with that
 * version arrives. Server CPU per command: the server process's CPU over the cell ÷ the credits
 * committed in it.
 *
 * Alone: `npx tsx test/bench/frontend.ts`. Knobs: BENCH_FRONTEND_SUBSCRIBERS=1000,10000
 * BENCH_FRONTEND_ACCOUNTS=10000 (at least the largest cell) BENCH_FRONTEND_RATE=500
 * BENCH_FRONTEND_MS=5000 BENCH_FRONTEND_DRAIN_MS=3000 BENCH_FRONTEND_PER_SOCKET=100
 * BENCH_FRONTEND_WARMUP_MS=5000.
 */
import postgres from 'postgres';
import { newId } from '../../src/eventstore/ids.js';
import type { FromServer, ToServer } from './cairn-server.js';
import { clockOffset, startChild, type Child, type Offset } from './delivery.js';
import type { Figure, FigureRunner, Goal } from './figure.js';
import { accountQuery, type FromFrontendClients, type FrontendReport, type ToFrontendClients } from './frontend-clients.js';
import type { CreditsWritten, FromFrontendWriter, ToFrontendWriter } from './frontend-writer.js';
import { positive, positives } from './target.js';
import { runAlone } from './alone.js';

type Settings = {
  readonly subscribers: readonly number[];
  readonly accounts: number;
  readonly rate: number;
  readonly windowMs: number;
  readonly drainMs: number;
  readonly perSocket: number;
  readonly warmupMs: number;
};

const readSettings = (): Settings => {
  const subscribers = positives('BENCH_FRONTEND_SUBSCRIBERS', [1_000, 10_000]);
  const accounts = positive('BENCH_FRONTEND_ACCOUNTS', 10_000);
  if (accounts < Math.max(...subscribers)) throw new Error('BENCH_FRONTEND_ACCOUNTS must be at least the largest BENCH_FRONTEND_SUBSCRIBERS');
  return {
    subscribers,
    accounts,
    rate: positive('BENCH_FRONTEND_RATE', 500),
    windowMs: positive('BENCH_FRONTEND_MS', 5_000),
    drainMs: positive('BENCH_FRONTEND_DRAIN_MS', 3_000),
    perSocket: positive('BENCH_FRONTEND_PER_SOCKET', 100),
    warmupMs: positive('BENCH_FRONTEND_WARMUP_MS', 5_000),
  };
};

const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '–');

type Cell = {
  readonly subscribers: number;
  readonly written: CreditsWritten;
  readonly report: FrontendReport;
  readonly serverCpuMs: number;
  readonly serverWallMs: number;
  readonly openMs: number;
};

const cpuPerCommand = (cell: Cell) => cell.serverCpuMs / Math.max(1, cell.written.commands);

type Processes = {
  readonly server: Child<ToServer, FromServer>;
  readonly base: string;
  readonly clients: Child<ToFrontendClients, FromFrontendClients>;
  readonly writer: Child<ToFrontendWriter, FromFrontendWriter>;
  readonly offsets: Map<string, Offset>;
};

const listeners = async (server: Child<ToServer, FromServer>) => (await server.ask({ type: 'listeners' }, 'listeners', 10_000)).count;

const until = async (done: () => Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(50);
  }
};

const runCell = async (processes: Processes, settings: Settings, ids: readonly string[], subscribers: number, windowMs: number): Promise<Cell> => {
  const { server, clients, writer, offsets } = processes;
  const idle = await listeners(server);
  const opening = performance.now();
  try {
    await clients.ask({ type: 'open', base: processes.base, ids: ids.slice(0, subscribers), perSocket: settings.perSocket }, 'opened', 300_000);
    await until(async () => (await listeners(server)) >= idle + subscribers, 120_000, `${subscribers} accountChanged subscriptions`);
    const openMs = performance.now() - opening;
    const deadlineAt = wallNow() + windowMs + settings.drainMs;
    clients.send({ type: 'mark', deadlineAt: deadlineAt + (offsets.get('clients')?.offsetMs ?? 0) });
    await server.ask({ type: 'mark' }, 'marked', 10_000);
    // Credits on the watched accounts only: each has exactly one subscriber in every cell, so the
    // cells differ in how many subscribers the server holds, not in how many pushes a credit makes.
    const watched = ids.slice(0, subscribers);
    const { result: written } = await writer.ask({ type: 'write', rate: settings.rate, durationMs: windowMs, ids: watched }, 'written', windowMs + 120_000);
    const { report } = await clients.ask({ type: 'collect' }, 'collected', settings.drainMs + 60_000);
    const cpu = await server.ask({ type: 'cpu' }, 'cpu', 60_000);
    return { subscribers, written, report, serverCpuMs: cpu.cpuMs, serverWallMs: cpu.wallMs, openMs };
  } finally {
    await clients.ask({ type: 'close' }, 'closed', 60_000);
    await until(async () => (await listeners(server)) <= idle, 120_000, 'closed subscriptions to leave the server');
  }
};

const describeCell = (cell: Cell) =>
  `${count(cell.subscribers)} subscribers: ${count(cell.written.rate)} credits/s (commit p50 ${ms(cell.written.commitP50)} / p99 ${ms(cell.written.commitP99)} ms), ${count(cell.report.delivered)} of ${count(cell.report.expected)} pushes, ` +
  `p50 ${ms(cell.report.p50)} / p99 ${ms(cell.report.p99)} / max ${ms(cell.report.max)} ms; server ${((100 * cell.serverCpuMs) / cell.serverWallMs).toFixed(0)} % of a core, ` +
  `${cpuPerCommand(cell).toFixed(3)} ms CPU per command; clients ${((100 * cell.report.cpuMs) / cell.report.wallMs).toFixed(0)} %; subscribing took ${(cell.openMs / 1_000).toFixed(1)} s`;

/** VACUUM ANALYZE of the whole database, as an operator would after a bulk load. */
const settleTables = async (url: string): Promise<void> => {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await sql`vacuum analyze`;
  } finally {
    await sql.end({ timeout: 5 });
  }
};

export const frontend: FigureRunner = async ({ target, progress }) => {
  const settings = readSettings();
  const stops: (() => Promise<void>)[] = [];
  const cells: Cell[] = [];
  let openedMs = 0;
  const offsets = new Map<string, Offset>();
  try {
    const clients = await startChild<ToFrontendClients, FromFrontendClients>('frontend clients', './frontend-clients.ts', { CAIRN_FRONTEND_CLIENTS: '1' });
    stops.push(() => clients.stop());
    const forward = (message: FromFrontendWriter) => {
      if (message.type !== 'commits') return;
      const shift = (offsets.get('clients')?.offsetMs ?? 0) - (offsets.get('writer')?.offsetMs ?? 0);
      clients.send({ type: 'commits', commits: message.commits.map(([key, at]) => [key, at + shift] as const) });
    };
    const writer = await startChild<ToFrontendWriter, FromFrontendWriter>('frontend writer', './frontend-writer.ts', { CAIRN_FRONTEND_WRITER_URL: target.url }, forward);
    stops.push(() => writer.stop());
    const server = await startChild<ToServer, FromServer>('cairn server process', './cairn-server.ts', { CAIRN_BENCH_SERVER_URL: target.url });
    stops.push(() => server.stop());
    offsets.set('clients', await clockOffset(() => clients.ask({ type: 'ping' }, 'pong', 5_000).then(({ at }) => at)));
    offsets.set('writer', await clockOffset(() => writer.ask({ type: 'ping' }, 'pong', 5_000).then(({ at }) => at)));
    const ids = Array.from({ length: settings.accounts }, () => newId('acc'));
    progress(`frontend: opening ${count(ids.length)} accounts`);
    openedMs = (await writer.ask({ type: 'open-accounts', ids, perTransaction: 100 }, 'opened', 600_000)).ms;
    // The bulk of openings leaves the tables to autovacuum and stale planner statistics: settle
    // them here, or the first cell measures PostgreSQL vacuuming and analysing on the shared cores.
    await settleTables(target.url);
    const processes: Processes = { server, base: (await server.ask({ type: 'ping' }, 'pong', 5_000)).base, clients, writer, offsets };
    // The first seconds of a fresh process run its code unoptimised (the server, the writer and the
    // clients alike): a cell of the smallest size at the full rate warms all three, unmeasured.
    const warmSubscribers = Math.min(...settings.subscribers);
    progress(`frontend: opened in ${(openedMs / 1_000).toFixed(1)} s; warming up (${count(warmSubscribers)} subscribers, ${settings.warmupMs / 1_000} s)`);
    await runCell(processes, settings, ids, warmSubscribers, settings.warmupMs);
    for (const subscribers of settings.subscribers) {
      const cell = await runCell(processes, settings, ids, subscribers, settings.windowMs);
      progress(`frontend: ${describeCell(cell)}`);
      cells.push(cell);
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  return [frontendFigure(cells, settings, openedMs, offsets)];
};

const frontendFigure = (cells: readonly Cell[], settings: Settings, openedMs: number, offsets: ReadonlyMap<string, Offset>): Figure => {
  const largest = cells.reduce<Cell | undefined>((a, b) => (a && a.subscribers >= b.subscribers ? a : b), undefined);
  const smallest = cells.reduce<Cell | undefined>((a, b) => (a && a.subscribers <= b.subscribers ? a : b), undefined);
  const growth = largest && smallest && largest !== smallest ? cpuPerCommand(largest) / cpuPerCommand(smallest) : Number.NaN;
  const complete = (cell: Cell) => cell.report.delivered >= cell.report.expected && cell.report.expected > 0;
  const goals: Goal[] = [
    {
      goal: `frontend fan-out: p99 commit → client, ${largest ? count(largest.subscribers) : '–'} subscribers on accountChanged, ${count(settings.rate)} credits/s, every push delivered`,
      target: '< 50 ms',
      result: largest ? `${ms(largest.report.p99)} ms${complete(largest) ? '' : ` (${count(largest.report.delivered)} of ${count(largest.report.expected)} delivered)`}` : '–',
      met: largest ? largest.report.p99 < 50 && complete(largest) : undefined,
    },
    {
      goal: `frontend fan-out: server CPU per command at ${largest ? count(largest.subscribers) : '–'} ÷ at ${smallest ? count(smallest.subscribers) : '–'} subscribers`,
      target: 'does not grow: ≤ 1.2× (read as "within the run-to-run noise")',
      result: Number.isFinite(growth) ? `${growth.toFixed(2)}× (${cpuPerCommand(largest!).toFixed(3)} vs ${cpuPerCommand(smallest!).toFixed(3)} ms)` : '–',
      met: Number.isFinite(growth) ? growth <= 1.2 : undefined,
    },
  ];
  const offsetText = [...offsets].map(([name, offset]) => `${name} ${offset.offsetMs.toFixed(3)} ms (round trip ${offset.roundTripMs.toFixed(3)} ms)`).join(', ');
  return {
    id: 'frontend',
    title: 'Frontend-shaped fan-out: one accountChanged subscription per account, credits on random accounts',
    setup: [
      `${count(settings.accounts)} accounts opened first through \`accountAggregate\` (100 per transaction, ${(openedMs / 1_000).toFixed(1)} s, then VACUUM ANALYZE; not measured); each cell subscribes to the first N of them, one subscription per account: \`${accountQuery}\``,
      `subscribers: graphql-ws (the bare protocol on \`ws\`) in a client process of their own, ${settings.perSocket} subscriptions multiplexed on each socket, each socket from its own loopback address (127.1.x.y) as separate frontends would be (so ${settings.subscribers.map((n) => `${count(Math.ceil(n / settings.perSocket))} sockets for ${count(n)}`).join(', ')}; BENCH_FRONTEND_PER_SOCKET)`,
      `load: ${count(settings.rate)} credits/s (1.00 each) on accounts drawn uniformly from the N watched ones (so every credit makes exactly one push, in every cell), open loop (at most 64 in flight) for ${settings.windowMs / 1_000} s per cell, then up to ${settings.drainMs / 1_000} s for the pushes; a writer process runs \`accountAggregate.handle\` on the kernel store and rings the doorbell with NOTIFY after commit, as another instance taking the commands would, so the server's CPU is the fan-out's alone`,
      'server: `startApp` (no process managers, relay safety poll 1 s) + `createHttpServer` in a process of its own; its CPU is that process\'s `process.cpuUsage()` from just before the first credit until every push arrived (or the deadline); CPU per command = that ÷ the credits committed in the cell',
      `latency: the writer's commit acknowledged → the client process receives the push of that (account, version), one clock via offsets measured over IPC (${offsetText}); a push matched to no commit counts as unmatched; first an unmeasured warm-up cell of the smallest size at the full rate for ${settings.warmupMs / 1_000} s (BENCH_FRONTEND_WARMUP_MS), so that no process is measured while its code is still unoptimised`,
    ],
    columns: ['subscribers', 'sockets', 'credits/s', 'pushes expected', 'delivered', 'p50 ms', 'p99 ms', 'max ms', 'server CPU (% of a core)', 'server CPU per command ms', 'client CPU', 'subscribing s'],
    rows: cells.map((cell) => [
      count(cell.subscribers),
      count(cell.report.sockets),
      count(cell.written.rate),
      count(cell.report.expected),
      complete(cell) ? count(cell.report.delivered) : `${count(cell.report.delivered)} (${((100 * cell.report.delivered) / Math.max(1, cell.report.expected)).toFixed(1)} %)`,
      ms(cell.report.p50),
      ms(cell.report.p99),
      ms(cell.report.max),
      `${((100 * cell.serverCpuMs) / cell.serverWallMs).toFixed(0)} %`,
      cpuPerCommand(cell).toFixed(3),
      `${((100 * cell.report.cpuMs) / cell.report.wallMs).toFixed(0)} %`,
      (cell.openMs / 1_000).toFixed(1),
    ]),
    goals,
    notes: [
      'Every credit lands on a watched account and makes exactly one push, whatever the number of subscribers: CPU per command that stays flat from the smallest to the largest cell means the server does not visit every subscriber for every event, nor pay per idle subscriber.',
      ...cells
        .filter((cell) => cell.written.rate < 0.9 * settings.rate)
        .map(
          (cell) =>
            `${count(cell.subscribers)} subscribers: the writer committed ${count(cell.written.rate)} credits/s of the ${count(settings.rate)} asked (its schedule ran up to ${ms(cell.written.maxLateMs)} ms late, commit p99 ${ms(cell.written.commitP99)} ms): the database or the machine, not the subscribers, set the pace.`,
        ),
      ...cells
        .filter((cell) => cell.report.errors + cell.report.unmatched + cell.written.failures > 0)
        .map(
          (cell) =>
            `${count(cell.subscribers)} subscribers: ${cell.report.errors} error message(s)${cell.report.firstError ? ` (first: ${cell.report.firstError})` : ''}, ${cell.report.unmatched} push(es) matching no commit, ${cell.written.failures} failed credit(s)${cell.written.firstFailure ? ` (first: ${cell.written.firstFailure})` : ''}.`,
        ),
    ],
    bars: cells.map((cell) => ({ group: 'frontend fan-out p99', label: `${count(cell.subscribers)} subscribers`, value: cell.report.p99, unit: 'ms' })),
    values: Object.fromEntries(
      cells.flatMap((cell) => [
        [`frontend-p99@${cell.subscribers}`, cell.report.p99],
        [`frontend-cpu-per-command-ms@${cell.subscribers}`, cpuPerCommand(cell)],
      ]),
    ),
  };
};

await runAlone(import.meta.url, 'frontend', frontend);
