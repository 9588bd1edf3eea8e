/**
 * Delivery latency, commit to client: how long after a command's commit is acknowledged does a
 * subscriber's client hold the event? Two server instances (A and B) share one database, each
 * with its real HTTP server; subscribers connect over SSE and graphql-ws to both. Writers run
 * `createTransaction` through instance A's store (the command path without HTTP), so instance
 * A's relay is poked in process and instance B learns of commits through NOTIFY, as a second
 * server would.
 *
 * Scenarios (BENCH_SCENARIOS=rest,load,topologies, all three by default, in that order):
 * - `rest`: one writer, one command every BENCH_REST_INTERVAL_MS;
 * - `load`: BENCH_WRITERS concurrent writers as fast as they go for BENCH_DURATION_MS, then again
 *   with a stalled subscriber, then again without it;
 * - `topologies`: at rest, B's delivery direct, through PgBouncer with CAIRN_LISTEN_URL, and
 *   through PgBouncer without it, plus a direct control without named statements
 *   (test/bench/latency-topologies.ts; needs pgbouncer installed; about a minute; also part
 *   `topologies` of `npm run bench`).
 * `rest` and `load` share one database and one pair of instances; `topologies` gets its own.
 *
 * Usage: `npm run bench:latency` (embedded PostgreSQL in a temp dir) or with DATABASE_URL set;
 * `BENCH_SCENARIOS=topologies npm run bench:latency` for the topology figure alone.
 * Knobs: BENCH_WRITERS=64 BENCH_DURATION_MS=10000 BENCH_REST_COMMANDS=300 BENCH_REST_INTERVAL_MS=20
 * BENCH_OUT=path.md (default test/bench/results/latency-<date>.md; results are appended, one
 * section per database: `rest`/`load`, then `topologies`).
 *
 * Everything runs in one Node process on one clock (performance.now), so servers, writers and
 * clients share its event loop and CPU: the figures include that contention.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { startApp, type App } from '../../src/app.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { HttpServer } from '../../src/server.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { Clock, command, serve, sleep, subscribe, summarise, untilReceived, writeAtRest, type Row } from './latency-harness.js';
import { topologies } from './latency-topologies.js';
import { markdownTable } from './report.js';
import { names, positive, provideServer, type Target } from './target.js';

const scenarios = ['rest', 'load', 'topologies'] as const;
type Scenario = (typeof scenarios)[number];

const settings = {
  writers: positive('BENCH_WRITERS', 64),
  durationMs: positive('BENCH_DURATION_MS', 10_000),
  restCommands: positive('BENCH_REST_COMMANDS', 300),
  restIntervalMs: positive('BENCH_REST_INTERVAL_MS', 20),
  scenarios: names<Scenario>('BENCH_SCENARIOS', scenarios, scenarios),
  out:
    process.env.BENCH_OUT ||
    path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `latency-${new Date().toISOString().slice(0, 10)}.md`),
};

const stalledSubscription = `subscription {
  events(aggregateType: "Transaction") { id position aggregateId aggregateType version type data metadata occurredAt recordedAt }
}`;

const table = (rows: readonly Row[]) =>
  [
    '| scenario | client | commands | command p50 ms | received | p50 ms | p99 ms | max ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.client} | ${row.commands} | ${row.commandP50.toFixed(1)} | ${row.samples} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.max.toFixed(2)} |`,
    ),
  ].join('\n');

const describePostgres = async (url: string, embedded: boolean) => {
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  const [pg] = await admin<{ version: string; fsync: string; synchronous_commit: string }[]>`
    select version() as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`;
  await admin.end();
  return `- PostgreSQL: ${pg?.version} (fsync=${pg?.fsync}, synchronous_commit=${pg?.synchronous_commit}), ${embedded ? 'embedded' : 'DATABASE_URL'}`;
};

const machine = () => `- machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`;
const loadAverage = () =>
  `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`;

/** Appends one section (setup lines, then the table) to the results file, and prints it. */
const append = (setup: readonly string[], report: string) => {
  console.log(`${setup.join('\n')}\n\n${report}\n`);
  mkdirSync(path.dirname(settings.out), { recursive: true });
  const header = existsSync(settings.out)
    ? ''
    : '# Delivery latency, commit to client\n\nProduced by `npm run bench:latency` (test/bench/latency.ts); each run appends a section.\n';
  appendFileSync(settings.out, `${header}\n## ${new Date().toISOString()}\n\n${setup.join('\n')}\n\n${report}\n`);
  console.log(`appended to ${path.relative(process.cwd(), settings.out)}`);
};

/** `rest` and/or `load` on two instances of one database (direct). */
const restAndLoad = async (target: Target, logger: Logger) => {
  const closers: (() => unknown)[] = [];
  const servers: HttpServer[] = [];
  const apps: App[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const app = await startApp({ databaseUrl: target.url, logger, relayPollMs: 1_000, poolSize: settings.writers + 4 });
      apps.push(app);
      servers.push((await serve(app)).http);
    }
    const clock = new Clock();
    const idle = apps.map((app) => app.services.relay.listenerCount);
    for (const [i, server] of servers.entries()) {
      await subscribe(clock, `instance ${'AB'[i]}`, (server.server.address() as AddressInfo).port, closers);
    }
    while (apps.some((app, i) => app.services.relay.listenerCount < idle[i]! + 2)) await sleep(10);
    // Where the time goes: when instance A's relay hands the event out, before any transport.
    const atRelay = clock.receiver('instance A relay (no transport)');
    closers.push(
      apps[0]!.services.relay.subscribe(
        (batch) => batch.forEach((event) => atRelay({ data: { events: { aggregateId: event.aggregateId } } })),
        () => undefined,
      ),
    );
    const writer = apps[0]!;
    const rows: Row[] = [];

    // Warm-up: JIT, connections, the first pages of every table.
    for (let i = 0; i < 200; i++) await command(writer, clock)();
    await untilReceived(clock, 200);
    clock.reset();

    if (settings.scenarios.includes('rest')) {
      await writeAtRest(writer, clock, settings.restCommands, settings.restIntervalMs);
      await untilReceived(clock, settings.restCommands);
      rows.push(...summarise(`rest (1 writer, 1 command per ${settings.restIntervalMs} ms)`, clock, settings.restCommands));
      clock.reset();
    }

    const load = async (scenario: string) => {
      clock.reset();
      let stopping = false;
      let commands = 0;
      const started = performance.now();
      const run = command(writer, clock);
      await Promise.all(
        Array.from({ length: settings.writers }, async () => {
          while (!stopping) {
            await run();
            commands++;
            if (performance.now() - started > settings.durationMs) stopping = true;
          }
        }),
      );
      const rate = commands / ((performance.now() - started) / 1000);
      await untilReceived(clock, commands);
      rows.push(...summarise(`${scenario} (${settings.writers} writers, ${rate.toFixed(0)} commits/s)`, clock, commands));
    };
    let stalledLine: string | undefined;
    if (settings.scenarios.includes('load')) {
      await load('load');

      // The same load with one more subscriber on instance A that stops reading at once, selecting
      // every field so its unread stream outgrows the socket buffers.
      const overflowsBefore = apps[0]!.services.relay.overflows;
      const stalled = await openHttpSse(`http://127.0.0.1:${(servers[0]!.server.address() as AddressInfo).port}`, stalledSubscription);
      stalled.pause();
      closers.push(() => stalled.close());
      while (apps[0]!.services.relay.listenerCount < idle[0]! + 4) await sleep(10);
      await load('load + a stalled subscriber');
      const overflows = apps[0]!.services.relay.overflows - overflowsBefore;
      stalled.close();
      while (apps[0]!.services.relay.listenerCount > idle[0]! + 3) await sleep(10);
      // And again without it, to tell the stalled subscriber's cost from drift between runs.
      await load('load again, stalled subscriber gone');
      stalledLine = `- the stalled subscriber (last rows) never reads; it received ${stalled.payloads.length} events and its buffer (${apps[0]!.services.relay.subscriberBuffer} events) overflowed ${overflows} time(s)`;
    }

    const setup = [
      await describePostgres(target.url, target.embedded),
      '- two cairn instances on one database, each with its HTTP server; per instance one SSE and one graphql-ws subscriber to every `Transaction` event',
      '- writers: `createTransaction` through instance A (in-process poke); instance B hears of commits through LISTEN/NOTIFY',
      ...(stalledLine ? [stalledLine] : []),
      '- latency: from the command returning (commit acknowledged) to the client parsing the event, one process, one clock',
      `${machine()}, ${loadAverage()}`,
    ];
    append(setup, table(rows));
  } finally {
    for (const close of closers) await close();
    for (const server of servers) await server.close();
    for (const app of apps) await app.close();
  }
};

/** `topologies` on a database of its own: the same figure `npm run bench` reports. */
const byTopology = async (target: Target, logger: Logger) => {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  for (const figure of await topologies({ target, logger, progress })) {
    const notes = (figure.notes ?? []).map((line) => `- ${line}`).join('\n');
    append([figure.title, '', ...figure.setup.map((line) => `- ${line}`), machine()], `${markdownTable(figure)}\n\n${notes}`);
  }
};

const main = async () => {
  const logger = createLogger('warn', { component: 'bench' });
  const server = await provideServer(logger);
  const runs: [boolean, (target: Target, logger: Logger) => Promise<void>][] = [
    [settings.scenarios.includes('rest') || settings.scenarios.includes('load'), restAndLoad],
    [settings.scenarios.includes('topologies'), byTopology],
  ];
  try {
    for (const [chosen, run] of runs) {
      if (!chosen) continue;
      const target = await server.database();
      try {
        await run(target, logger);
      } finally {
        await target.stop();
      }
    }
  } finally {
    await server.stop();
  }
};

await main();
