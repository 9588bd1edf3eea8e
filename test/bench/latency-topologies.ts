/**
 * Delivery latency by topology (issue 11): commit → client on a *second* instance, which hears
 * of the first one's commits through NOTIFY/LISTEN, the one thing a transaction pooler breaks.
 * Three setups and a control, each with two fresh instances on the same database and one writer
 * through A at rest:
 *
 * - `direct`: both instances' DATABASE_URL on PostgreSQL itself;
 * - `direct, unnamed statements (control)`: the same with CAIRN_PREPARED_STATEMENTS=false, as the
 *   pooled setups must run, to tell the pooler's hop from re-planning every statement;
 * - `pooled + CAIRN_LISTEN_URL`: both pools through PgBouncer in transaction mode (no named
 *   statements), the relay's LISTEN on a direct connection;
 * - `pooled, no CAIRN_LISTEN_URL`: the same with LISTEN through the pooler, where notifications
 *   never arrive, so B reads on its safety poll alone (the listen check says so: not ready).
 *
 * The relay polls every 1,000 ms in every setup, CAIRN_RELAY_POLL_MS's production default: the
 * last row is only honest at the poll operators actually run.
 *
 * Knobs (shared with latency.ts): BENCH_REST_COMMANDS=300 BENCH_REST_INTERVAL_MS=20.
 * Runs from `npm run bench:latency` (BENCH_SCENARIOS=topologies) and `npm run bench` (part `topologies`).
 */
import { loadavg } from 'node:os';
import { startApp, type App } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import type { HttpServer } from '../../src/server.js';
import type { Bar, Figure, FigureRunner } from './figure.js';
import { Clock, command, serve, sleep, subscribe, summarise, untilReceived, writeAtRest, type Row } from './latency-harness.js';
import { startPgBouncer, type Pooler } from '../helpers/pgbouncer-process.js';
import { describePostgres, positive, type Target } from './target.js';

const productionPollMs = 1_000;
const poolerPoolSize = 20;
const warmUpCommands = 200;

type Setup = {
  readonly name: string;
  readonly options: (target: Target, pooler: Pooler) => { databaseUrl: string; listenUrl?: string; preparedStatements?: boolean };
  /** Why the row looks the way it does, with what the run measured of B's relay. */
  readonly why: (b: ListenReport) => string;
};

type ListenReport = { readonly heard: boolean; readonly missed: number; readonly reads: number; readonly seconds: number };

const heard = (b: ListenReport) => `listen check ${b.heard ? 'heard' : 'not heard'}, ${b.missed} probe(s) missed`;
const reads = (b: ListenReport) => `B's relay read the log ${b.reads} times in ${b.seconds.toFixed(1)} s`;

const setups: readonly Setup[] = [
  {
    name: 'direct',
    options: (target) => ({ databaseUrl: target.url }),
    why: (b) => `B's LISTEN on PostgreSQL hears A's NOTIFY after each commit (${heard(b)}); ${reads(b)}. A is poked in process at commit.`,
  },
  {
    name: 'direct, unnamed statements (control)',
    options: (target) => ({ databaseUrl: target.url, preparedStatements: false }),
    why: (b) =>
      `no pooler, but statements unnamed as behind one, so PostgreSQL parses and plans every command's statements and every relay read again: what of the pooled rows' cost is not the pooler's hop (${heard(b)}; ${reads(b)}).`,
  },
  {
    name: 'pooled + CAIRN_LISTEN_URL',
    options: (target, pooler) => ({ databaseUrl: pooler.urlFor(target.url), preparedStatements: false, listenUrl: target.url }),
    why: (b) =>
      `both pools through PgBouncer, the relay's LISTEN direct: A's NOTIFY still reaches B (${heard(b)}); ${reads(b)}, each through the pooler, as are A's commands and reads.`,
  },
  {
    name: 'pooled, no CAIRN_LISTEN_URL',
    options: (target, pooler) => ({ databaseUrl: pooler.urlFor(target.url), preparedStatements: false }),
    why: (b) =>
      `LISTEN through the pooler hears nothing (${heard(b)}, so /ready answers 503): B reads only on its ${productionPollMs} ms safety poll, so an event waits up to one poll for the next read; ${reads(b)}. A, poked in process, does not notice.`,
  },
];

type Measured = { readonly rows: readonly Row[]; readonly b: ListenReport };

/** Two instances with `options`, a subscriber per transport on B and one SSE on A, one writer through A at rest. */
const measure = async (
  setup: Setup,
  options: ReturnType<Setup['options']>,
  logger: Logger,
  pace: { readonly commands: number; readonly intervalMs: number },
): Promise<Measured> => {
  const closers: (() => unknown)[] = [];
  const servers: HttpServer[] = [];
  const apps: App[] = [];
  try {
    // Both at once: a relay listening through the pooler waits one probe interval (5 s) at start-up.
    const started = await Promise.allSettled([0, 1].map(() => startApp({ ...options, logger, relayPollMs: productionPollMs })));
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [a, b] = apps as [App, App];
    const clock = new Clock();
    const idle = apps.map((app) => app.services.relay.listenerCount);
    const ports: number[] = [];
    for (const app of apps) {
      const { http, port } = await serve(app);
      servers.push(http);
      ports.push(port);
    }
    await subscribe(clock, 'A', ports[0]!, closers, ['SSE']);
    await subscribe(clock, 'B', ports[1]!, closers);
    while (a.services.relay.listenerCount < idle[0]! + 1 || b.services.relay.listenerCount < idle[1]! + 2) await sleep(10);

    // Warm-up: JIT, connections (the pooler's too), the first pages of every table.
    const warm = command(a, clock);
    for (let i = 0; i < warmUpCommands; i++) await warm();
    await untilReceived(clock, warmUpCommands);
    clock.reset();

    const readsBefore = b.services.relay.reads;
    const began = performance.now();
    await writeAtRest(a, clock, pace.commands, pace.intervalMs);
    await untilReceived(clock, pace.commands);
    const relay = b.services.relay;
    return {
      rows: summarise(setup.name, clock, pace.commands),
      b: { heard: relay.listenHealthy, missed: relay.missedListenProbes, reads: relay.reads - readsBefore, seconds: (performance.now() - began) / 1000 },
    };
  } finally {
    for (const close of closers) await close();
    for (const server of servers) await server.close();
    for (const app of apps) await app.close();
  }
};

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/** p50 / p99 / max of one client, in ms. */
const spread = (rows: readonly Row[], client: string) => {
  const row = rows.find((candidate) => candidate.client === client);
  return row ? `${ms(row.p50)} / ${ms(row.p99)} / ${ms(row.max)}` : '–';
};

const tableRow = (setup: Setup, measured: Measured) => [
  setup.name,
  measured.rows[0]?.commands ?? 0,
  measured.rows[0]?.commandP50 ?? Number.NaN,
  spread(measured.rows, 'B SSE'),
  spread(measured.rows, 'B WebSocket'),
  spread(measured.rows, 'A SSE'),
];

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

export const topologies: FigureRunner = async ({ target, logger, progress }) => {
  const pace = { commands: positive('BENCH_REST_COMMANDS', 300), intervalMs: positive('BENCH_REST_INTERVAL_MS', 20) };
  const database = await describePostgres(target);
  const loadBefore = load();
  const pooler = await startPgBouncer(target.url, { poolSize: poolerPoolSize, whoNeedsIt: 'the topology figure' });
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const bars: Bar[] = [];
  try {
    for (const setup of setups) {
      progress(`topologies: ${setup.name}`);
      const measured = await measure(setup, setup.options(target, pooler), logger, pace);
      rows.push(tableRow(setup, measured));
      notes.push(`${setup.name}: ${setup.why(measured.b)}`);
      const b = measured.rows.find((row) => row.client === 'B SSE');
      if (b) {
        bars.push(
          { group: 'B, SSE', label: `${setup.name} p50`, value: b.p50, unit: 'ms' },
          { group: 'B, SSE', label: `${setup.name} p99`, value: b.p99, unit: 'ms' },
        );
      }
    }
  } finally {
    await pooler.stop();
  }
  return [
    {
      id: 'topologies',
      title: 'Delivery latency on a second instance: direct, pooled with CAIRN_LISTEN_URL, pooled without',
      setup: [
        database,
        `${pooler.version} in transaction mode (default_pool_size ${poolerPoolSize}) in front of the same server for both pooled setups; their pools name no statements (CAIRN_PREPARED_STATEMENTS=false)`,
        `per setup two fresh instances (A, B) on one database, relay safety poll ${productionPollMs} ms (the production default), listen check every 5 s; B has an SSE and a graphql-ws subscriber, A one SSE subscriber, to every \`Transaction\` event`,
        `at rest: one writer, \`createTransaction\` through A's store (A is poked in process, B hears through LISTEN/NOTIFY), ${pace.commands} commands ${pace.intervalMs} ms apart after ${warmUpCommands} for warm-up`,
        'latency: from the command returning (commit acknowledged) to the client parsing the event, one process, one clock',
        `load average before ${loadBefore}, after ${load()}`,
      ],
      columns: [
        'setup',
        'commands',
        'command p50 ms',
        'B, SSE: p50 / p99 / max ms',
        'B, graphql-ws: p50 / p99 / max ms',
        'A, SSE (same instance, reference): p50 / p99 / max ms',
      ],
      rows,
      notes,
      bars,
    } satisfies Figure,
  ];
};
