/**
 * Fan-out against its physical limit (issue 16, goal 2): deliveries per *server* CPU-second.
 *
 *   ceiling  a bare `node:http` server in a process of its own (test/bench/fanout-ceiling.ts)
 *            writing the SSE bytes cairn writes for an `events { id position }` payload to N
 *            sockets, one write per socket per 5 ms tick (a relay's batch)
 *   cairn    one cairn server in a process of its own (test/bench/cairn-server.ts), N identical
 *            `events` subscriptions over SSE or graphql-ws, events appended by the delivery
 *            writer (test/bench/delivery-writer.ts, its own process, NOTIFY as another instance)
 *
 * The clients run in another process (test/bench/delivery-clients.ts, as the delivery figure's),
 * both for the ceiling and for cairn; each cell writes `rate` events/s in transactions of
 * `batch` for BENCH_FANOUT_MS, then allows BENCH_FANOUT_DRAIN_MS for the backlog. CPU is the
 * server process's own, from before the first write until the clients have everything (or the
 * deadline): deliveries per server CPU-second = events delivered to all clients ÷ that CPU time.
 * At each (rate, subscribers) the ceiling runs first, then cairn over each transport.
 *
 * Alone: `npx tsx test/bench/fanout.ts`. Knobs: BENCH_FANOUT_SUBSCRIBERS=100,1000
 * BENCH_FANOUT_RATES=500,2000 BENCH_FANOUT_MS=3000 BENCH_FANOUT_DRAIN_MS=3000
 * BENCH_FANOUT_BATCH=10 BENCH_FANOUT_TRANSPORTS=sse,ws.
 */
import { request } from 'node:http';
import type { CellReport, FromClients, ToClients, Transport } from './delivery-clients.js';
import type { FromWriter, ToWriter, WriteResult } from './delivery-writer.js';
import { clockOffset, startChild, type Child, type Offset } from './delivery.js';
import type { FromServer, ToServer } from './cairn-server.js';
import type { FromCeiling, ToCeiling } from './fanout-ceiling.js';
import type { Bar, Figure, FigureRunner, Goal } from './figure.js';
import { names, positive, positives } from './target.js';
import { runAlone } from './alone.js';

const transportName: Record<Transport, string> = { sse: 'SSE', ws: 'graphql-ws' };
const aggregateType = 'BenchFanout';
const liveQuery = `subscription Live($after: String!) { events(after: $after, aggregateType: "${aggregateType}") { id position } }`;
const tickMs = 5;

type Settings = {
  readonly subscribers: readonly number[];
  readonly rates: readonly number[];
  readonly windowMs: number;
  readonly drainMs: number;
  readonly batch: number;
  readonly transports: readonly Transport[];
};

const readSettings = (): Settings => ({
  subscribers: positives('BENCH_FANOUT_SUBSCRIBERS', [100, 1_000]),
  rates: positives('BENCH_FANOUT_RATES', [500, 2_000]),
  windowMs: positive('BENCH_FANOUT_MS', 3_000),
  drainMs: positive('BENCH_FANOUT_DRAIN_MS', 3_000),
  batch: positive('BENCH_FANOUT_BATCH', 10),
  transports: names<Transport>('BENCH_FANOUT_TRANSPORTS', ['sse', 'ws'], ['sse', 'ws']),
});

const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '–');

const until = async (done: () => Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(20);
  }
};

type Subject = 'ceiling' | Transport;

type Cell = {
  readonly subject: Subject;
  readonly rate: number;
  readonly subscribers: number;
  readonly written: WriteResult;
  readonly report: CellReport;
  readonly serverCpuMs: number;
  readonly serverWallMs: number;
};

const deliveredAll = (cell: Cell) => cell.report.delivered >= cell.report.expected && cell.report.expected > 0;
const perCpuSecond = (cell: Cell) => cell.report.delivered / (cell.serverCpuMs / 1_000);

/** Commit times from a child, converted into the clients' clock and passed on to them. */
class Forwarder {
  readonly offsets = new Map<string, Offset>();
  constructor(private readonly clients: Child<ToClients, FromClients>) {}
  from(child: string) {
    return (message: { type: string; commits?: readonly (readonly [string, number])[] }) => {
      if (message.type !== 'commits' || !message.commits) return;
      const source = this.offsets.get(child)?.offsetMs ?? 0;
      const target = this.offsets.get('clients')?.offsetMs ?? 0;
      this.clients.send({ type: 'commits', commits: message.commits.map(([id, at]) => [id, at - source + target] as const) });
    };
  }
}

type Processes = {
  readonly clients: Child<ToClients, FromClients>;
  readonly ceiling: Child<ToCeiling, FromCeiling>;
  readonly ceilingBase: string;
  readonly server: Child<ToServer, FromServer>;
  readonly serverBase: string;
  readonly writer: Child<ToWriter, FromWriter>;
  readonly forwarder: Forwarder;
};

/** Opens the cell's clients, waits until the server holds them, measures, closes them. */
const runCell = async (
  processes: Processes,
  settings: Settings,
  cell: { subject: Subject; rate: number; subscribers: number; windowMs: number },
): Promise<Cell> => {
  const { clients, ceiling, server, writer, forwarder } = processes;
  const held = async () =>
    cell.subject === 'ceiling'
      ? (await ceiling.ask({ type: 'streams' }, 'streams', 10_000)).count
      : (await server.ask({ type: 'listeners' }, 'listeners', 10_000)).count;
  const idle = await held();
  const after = cell.subject === 'ceiling' ? 'ceiling' : (await server.ask({ type: 'newest' }, 'newest', 10_000)).cursor;
  const transport: Transport = cell.subject === 'ceiling' ? 'sse' : cell.subject;
  const base = cell.subject === 'ceiling' ? processes.ceilingBase : processes.serverBase;
  try {
    await clients.ask({ type: 'open', transport, count: cell.subscribers, base, query: liveQuery, variables: { after } }, 'opened', 120_000);
    await until(async () => (await held()) >= idle + cell.subscribers, 30_000, `${cell.subscribers} ${cell.subject} subscriptions`);
    const deadlineAt = wallNow() + cell.windowMs + settings.drainMs;
    clients.send({ type: 'mark', deadlineAt: deadlineAt + (forwarder.offsets.get('clients')?.offsetMs ?? 0) });
    let written: WriteResult;
    let cpu: { cpuMs: number; wallMs: number };
    let report: CellReport;
    if (cell.subject === 'ceiling') {
      await ceiling.ask({ type: 'mark' }, 'marked', 10_000);
      written = (await ceiling.ask({ type: 'write', rate: cell.rate, batch: settings.batch, durationMs: cell.windowMs, tickMs }, 'written', cell.windowMs + 60_000)).result;
      report = (await clients.ask({ type: 'collect', events: written.events }, 'collected', settings.drainMs + 60_000)).report;
      cpu = await ceiling.ask({ type: 'cpu' }, 'cpu', 10_000);
    } else {
      await server.ask({ type: 'mark' }, 'marked', 10_000);
      written = (await writer.ask({ type: 'write', rate: cell.rate, batch: settings.batch, durationMs: cell.windowMs, aggregateType }, 'written', cell.windowMs + 60_000)).result;
      report = (await clients.ask({ type: 'collect', events: written.events }, 'collected', settings.drainMs + 60_000)).report;
      cpu = await server.ask({ type: 'cpu' }, 'cpu', 60_000);
    }
    return { ...cell, written, report, serverCpuMs: cpu.cpuMs, serverWallMs: cpu.wallMs };
  } finally {
    await clients.ask({ type: 'close' }, 'closed', 60_000);
    await until(async () => (await held()) <= idle, 60_000, 'closed subscriptions to leave the server');
  }
};

/** The first SSE block cairn sends for the fan-out's query: the bytes the ceiling imitates. */
const captureBlock = (base: string, after: string): Promise<{ block: string; close: () => void }> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ query: liveQuery, variables: { after } });
    const req = request(new URL('/graphql', base), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) },
    });
    req.once('error', reject);
    req.once('response', (response) => {
      response.setEncoding('utf8');
      let text = '';
      response.on('data', (chunk: string) => {
        text += chunk;
        const start = text.indexOf('event: next\n');
        const end = start < 0 ? -1 : text.indexOf('\n\n', start);
        if (end >= 0) resolve({ block: text.slice(start, end + 2), close: () => req.destroy() });
      });
      response.on('error', () => undefined);
    });
    req.end(body);
  });

/** A block with its id and position values masked: two blocks of the same form compare equal. */
const form = (block: string) => block.replace(/"id":"[^"]*"/, '"id":"…"').replace(/"position":"[^"]*"/, '"position":"…"');

const describeCell = (cell: Cell) =>
  `${count(cell.rate)} events/s × ${count(cell.subscribers)} ${cell.subject === 'ceiling' ? 'ceiling (SSE)' : `cairn ${transportName[cell.subject]}`}: ` +
  `${count(cell.report.delivered)} of ${count(cell.report.expected)} delivered, ${count(perCpuSecond(cell))} per server CPU-s ` +
  `(server ${((100 * cell.serverCpuMs) / cell.serverWallMs).toFixed(0)} % of a core over ${(cell.serverWallMs / 1_000).toFixed(1)} s), p50 ${ms(cell.report.p50)} / p99 ${ms(cell.report.p99)} ms`;

export const fanout: FigureRunner = async ({ target, progress }) => {
  const settings = readSettings();
  const stops: (() => Promise<void>)[] = [];
  const cells: Cell[] = [];
  let blocks: { cairn: string; ceiling: string } | undefined;
  let offsets: Record<string, Offset> = {};
  try {
    const clients = await startChild<ToClients, FromClients>('client process', './delivery-clients.ts', { CAIRN_DELIVERY_CLIENTS: '1' });
    stops.push(() => clients.stop());
    const forwarder = new Forwarder(clients);
    const ceiling = await startChild<ToCeiling, FromCeiling>('ceiling process', './fanout-ceiling.ts', { CAIRN_FANOUT_CEILING: '1' }, forwarder.from('ceiling'));
    stops.push(() => ceiling.stop());
    const server = await startChild<ToServer, FromServer>('cairn server process', './cairn-server.ts', { CAIRN_BENCH_SERVER_URL: target.url });
    stops.push(() => server.stop());
    const writer = await startChild<ToWriter, FromWriter>('writer process', './delivery-writer.ts', { CAIRN_DELIVERY_WRITER_URL: target.url }, forwarder.from('writer'));
    stops.push(() => writer.stop());
    const pinger = (child: Child<{ type: 'ping' }, { type: 'pong'; at: number }>) => () => child.ask({ type: 'ping' }, 'pong', 5_000).then(({ at }) => at);
    offsets = {
      clients: await clockOffset(pinger(clients as never)),
      ceiling: await clockOffset(pinger(ceiling as never)),
      writer: await clockOffset(pinger(writer as never)),
    };
    for (const [name, offset] of Object.entries(offsets)) forwarder.offsets.set(name, offset);
    const processes: Processes = {
      clients,
      ceiling,
      ceilingBase: (await ceiling.ask({ type: 'ping' }, 'pong', 5_000)).base,
      server,
      serverBase: (await server.ask({ type: 'ping' }, 'pong', 5_000)).base,
      writer,
      forwarder,
    };
    // A filter on an aggregate type the log has never seen is VALIDATION_FAILED: write one batch first.
    await writer.ask({ type: 'write', rate: 100, batch: settings.batch, durationMs: 100, aggregateType }, 'written', 30_000);
    progress('fanout: warming up (10 subscribers, 500 events/s, 1 s per server and transport)');
    // Held open through the warm-up: it resolves with the first event cairn writes.
    const captured = captureBlock(processes.serverBase, (await server.ask({ type: 'newest' }, 'newest', 10_000)).cursor).catch(() => ({
      block: '',
      close: () => undefined,
    }));
    const ceilingBlock = (await ceiling.ask({ type: 'write', rate: 500, batch: settings.batch, durationMs: 200, tickMs }, 'written', 30_000)).block;
    await runCell(processes, settings, { subject: 'ceiling', rate: 500, subscribers: 10, windowMs: 1_000 });
    for (const transport of settings.transports) await runCell(processes, settings, { subject: transport, rate: 500, subscribers: 10, windowMs: 1_000 });
    const cairnBlock = await Promise.race([captured.then(({ block, close }) => (close(), block)), sleep(10_000).then(() => '')]);
    blocks = { cairn: cairnBlock, ceiling: ceilingBlock };
    for (const rate of settings.rates) {
      for (const subscribers of settings.subscribers) {
        for (const subject of ['ceiling', ...settings.transports] as const) {
          const cell = await runCell(processes, settings, { subject, rate, subscribers, windowMs: settings.windowMs });
          progress(`fanout: ${describeCell(cell)}`);
          cells.push(cell);
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  return [fanoutFigure(cells, settings, blocks, offsets)];
};

const fanoutFigure = (cells: readonly Cell[], settings: Settings, blocks: { cairn: string; ceiling: string } | undefined, offsets: Record<string, Offset>): Figure => {
  const ceilingOf = (cell: Cell) => cells.find((other) => other.subject === 'ceiling' && other.rate === cell.rate && other.subscribers === cell.subscribers);
  const ratioOf = (cell: Cell) => {
    const ceiling = ceilingOf(cell);
    return ceiling ? perCpuSecond(cell) / perCpuSecond(ceiling) : Number.NaN;
  };
  const sameForm = blocks && blocks.cairn !== '' && form(blocks.cairn) === form(blocks.ceiling);
  const goals: Goal[] = settings.transports.map((transport) => {
    const own = cells.filter((cell) => cell.subject === transport);
    return {
      goal: `fan-out, cairn ${transportName[transport]}: deliveries per server CPU-second ÷ the raw ceiling's, every event delivered`,
      target: '≥ 0.5× in every cell, 100 % delivered',
      result: own
        .map((cell) => `${ratioOf(cell).toFixed(2)}×${deliveredAll(cell) ? '' : ` (${((100 * cell.report.delivered) / cell.report.expected).toFixed(1)} % delivered)`} at ${count(cell.subscribers)} × ${count(cell.rate)}/s`)
        .join(', '),
      met: own.length === 0 ? undefined : own.every((cell) => ratioOf(cell) >= 0.5 && deliveredAll(cell)),
    };
  });
  const values: Record<string, number> = {};
  for (const cell of cells) {
    const key = `${cell.subject}/${cell.rate}/${cell.subscribers}`;
    values[`fanout-per-cpu-s@${key}`] = perCpuSecond(cell);
    values[`fanout-p99@${key}`] = cell.report.p99;
    if (cell.subject !== 'ceiling') values[`fanout-ratio@${key}`] = ratioOf(cell);
  }
  const bars: Bar[] = cells.map((cell) => ({
    group: `fan-out, ${count(cell.subscribers)} subscribers × ${count(cell.rate)} events/s`,
    label: cell.subject === 'ceiling' ? 'raw ceiling (SSE)' : `cairn ${transportName[cell.subject]}`,
    value: perCpuSecond(cell),
    unit: 'deliveries per server CPU-s',
  }));
  const offsetText = Object.entries(offsets)
    .map(([name, offset]) => `${name} ${offset.offsetMs.toFixed(3)} ms (round trip ${offset.roundTripMs.toFixed(3)} ms)`)
    .join(', ');
  return {
    id: 'fanout',
    title: 'Fan-out against its physical limit: deliveries per server CPU-second, cairn ÷ a bare node:http server',
    setup: [
      `cells: ${settings.subscribers.map(count).join(' and ')} subscribers × ${settings.rates.map(count).join(' and ')} events/s, each writing for ${settings.windowMs / 1_000} s, then up to ${settings.drainMs / 1_000} s for the backlog (BENCH_FANOUT_…); events in transactions of ${settings.batch} on an open-loop schedule; a 1 s warm-up cell of 10 subscribers per server and transport first`,
      `raw ceiling: a bare node:http server in a process of its own; every request gets a text/event-stream response; events become visible on schedule and every ${tickMs} ms tick writes what came in since the last tick to every socket in one \`res.write\` (one write per socket per tick, like a relay batch)`,
      `bytes: each event is the SSE block cairn writes for \`events { id position }\`${blocks ? ` (${Buffer.byteLength(blocks.ceiling)} bytes, e.g. ${JSON.stringify(blocks.ceiling)})` : ''}; ${sameForm ? 'checked this run: the same form, byte for byte but the id and position values, as the first block cairn sent a raw SSE client' : 'NOT checked against cairn this run (no block captured, or a different form)'}${blocks?.cairn ? ` (cairn's: ${Buffer.byteLength(blocks.cairn)} bytes)` : ''}`,
      `cairn: \`startApp\` (no process managers, relay safety poll 1 s) + \`createHttpServer\` in a process of its own; the subscribers run \`${liveQuery}\` with \`after\` = the newest event, all identical; the writer (a third process) appends through the kernel store and rings the doorbell with NOTIFY as another instance would`,
      'clients: one process for every cell (test/bench/delivery-clients.ts: SSE over node:http with a hand-rolled parser, graphql-ws as the bare protocol on `ws`), checking each event\'s (transaction, position) order; every connection from its own loopback address (127.1.x.y), as separate frontends would be, so a per-client connection limit sees many clients; latency: commit (the ceiling: the event scheduled; cairn: the writer\'s commit acknowledged) → the client process receives the chunk',
      `server CPU: \`process.cpuUsage()\` of the server process only, from just before the first write until the clients hold every event (or the deadline); deliveries per server CPU-second = events delivered to all clients ÷ that CPU time; clock offsets over IPC: ${offsetText}`,
    ],
    columns: ['events/s', 'subscribers', 'server', 'delivered', 'deliveries/s', 'server CPU (% of a core)', 'deliveries per server CPU-s', '÷ ceiling', 'p50 ms', 'p99 ms', 'ceiling p99 ms', 'max ms'],
    rows: cells.map((cell) => {
      const ceiling = ceilingOf(cell);
      return [
        count(cell.rate),
        count(cell.subscribers),
        cell.subject === 'ceiling' ? 'raw ceiling (SSE)' : `cairn ${transportName[cell.subject]}`,
        deliveredAll(cell)
          ? count(cell.report.delivered)
          : `${count(cell.report.delivered)} / ${count(cell.report.expected)} (${((100 * cell.report.delivered) / cell.report.expected).toFixed(1)} %)`,
        count(cell.report.delivered / (cell.report.wallMs / 1_000)),
        `${((100 * cell.serverCpuMs) / cell.serverWallMs).toFixed(0)} %`,
        count(perCpuSecond(cell)),
        cell.subject === 'ceiling' ? '1.00×' : `${ratioOf(cell).toFixed(2)}×`,
        ms(cell.report.p50),
        ms(cell.report.p99),
        ceiling ? ms(ceiling.report.p99) : '–',
        ms(cell.report.max),
      ];
    }),
    goals,
    notes: fanoutNotes(cells),
    bars,
    values,
  };
};

const fanoutNotes = (cells: readonly Cell[]): string[] => {
  const notes: string[] = [];
  const integrity = cells.reduce((sum, cell) => sum + cell.report.duplicates + cell.report.outOfOrder + cell.report.errors + cell.report.unmatched, 0);
  notes.push(
    integrity === 0
      ? 'Every client checked the (transaction, position) of each event it got: no duplicate, none out of order, no error, every delivery matched a commit.'
      : `INTEGRITY: ${integrity} duplicate, out-of-order, error or unmatched deliveries in all (see the per-cell progress lines).`,
  );
  const short = cells.filter((cell) => !deliveredAll(cell));
  if (short.length > 0) {
    notes.push(
      `Not every event arrived within the window + drain in ${short.length} cell(s): ${short
        .map((cell) => `${count(cell.subscribers)} × ${count(cell.rate)}/s ${cell.subject}`)
        .join(', ')}. Deliveries per CPU-second still count what arrived; a server that falls behind spends its CPU on a backlog that was not delivered in time.`,
    );
  }
  const busyClients = cells.filter((cell) => cell.report.cpuMs / cell.report.cpuWallMs >= 0.85);
  if (busyClients.length > 0) {
    notes.push(
      `The client process was at ≥ 85 % of a core in ${busyClients.length} cell(s): there, latency includes the clients' own queueing (deliveries per server CPU-second do not depend on it).`,
    );
  }
  return notes;
};

await runAlone(import.meta.url, 'fanout', fanout);
