/**
 * Delivery latency, commit to client: how long after a command's commit is acknowledged does a
 * subscriber's client hold the event? Two server instances (A and B) share one database, each
 * with its real HTTP server; subscribers connect over SSE and graphql-ws to both. Writers run
 * `createTransaction` through instance A's store (the command path without HTTP), so instance
 * A's relay is poked in process and instance B learns of commits through NOTIFY, as a second
 * server would.
 *
 * Scenarios: `rest` (one writer, one command every BENCH_REST_INTERVAL_MS) and `load`
 * (BENCH_WRITERS concurrent writers as fast as they go for BENCH_DURATION_MS).
 *
 * Usage: `npm run bench:latency` (embedded PostgreSQL in a temp dir) or with DATABASE_URL set.
 * Knobs: BENCH_WRITERS=64 BENCH_DURATION_MS=10000 BENCH_REST_COMMANDS=300 BENCH_REST_INTERVAL_MS=20
 * BENCH_OUT=path.md (default test/bench/results/latency-<date>.md; results are appended).
 *
 * Everything runs in one Node process on one clock (performance.now), so servers, writers and
 * clients share its event loop and CPU: the figures include that contention.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import postgres from 'postgres';
import WebSocket from 'ws';
import { startApp, type App } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { createLogger } from '../../src/logger.js';
import { createTransaction } from '../../src/modules/transactions/commands.js';
import { createHttpServer, type HttpServer } from '../../src/server.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { percentile, positive, provideTarget } from './target.js';

const settings = {
  writers: positive('BENCH_WRITERS', 64),
  durationMs: positive('BENCH_DURATION_MS', 10_000),
  restCommands: positive('BENCH_REST_COMMANDS', 300),
  restIntervalMs: positive('BENCH_REST_INTERVAL_MS', 20),
  out:
    process.env.BENCH_OUT ||
    path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', `latency-${new Date().toISOString().slice(0, 10)}.md`),
};

const subscription = `subscription { events(aggregateType: "Transaction") { aggregateId } }`;
const stalledSubscription = `subscription {
  events(aggregateType: "Transaction") { id position aggregateId aggregateType version type data metadata occurredAt recordedAt }
}`;
type Payload = { data?: { events?: { aggregateId: string } } };

/**
 * Commit acknowledgements and each client's receipts, by aggregate id. A receipt may come before
 * the writer sees its acknowledgement (the in-process poke runs on commit); that counts as 0.
 */
class Clock {
  readonly committed = new Map<string, number>();
  /** How long each command took, begin to commit acknowledged. */
  readonly commandMs: number[] = [];
  readonly received = new Map<string, Map<string, number>>();
  receiver(name: string) {
    const receipts = new Map<string, number>();
    this.received.set(name, receipts);
    return (payload: Payload) => {
      const id = payload.data?.events?.aggregateId;
      if (id !== undefined) receipts.set(id, performance.now());
    };
  }
  latencies(receipts: Map<string, number>): Float64Array {
    const samples: number[] = [];
    for (const [id, at] of receipts) {
      const committed = this.committed.get(id);
      if (committed !== undefined) samples.push(Math.max(0, at - committed));
    }
    return Float64Array.from(samples).sort();
  }
  reset() {
    this.committed.clear();
    this.commandMs.length = 0;
    for (const receipts of this.received.values()) receipts.clear();
  }
}

const serve = async (app: App) => {
  const http = createHttpServer(app.services);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  return { http, port: (http.server.address() as AddressInfo).port };
};

const subscribe = async (clock: Clock, instance: string, port: number, closers: (() => unknown)[]) => {
  const sse = await openHttpSse<Payload['data']>(`http://127.0.0.1:${port}`, subscription, {}, clock.receiver(`${instance} SSE`));
  closers.push(() => sse.close());
  const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  const onPayload = clock.receiver(`${instance} WebSocket`);
  closers.push(
    client.subscribe({ query: subscription }, { next: (payload) => onPayload(payload as Payload), error: () => undefined, complete: () => undefined }),
    () => client.dispose(),
  );
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const command = (app: App, clock: Clock) => async () => {
  const id = newId('tx');
  const started = performance.now();
  await createTransaction(
    app.services.store,
    { id, currency: 'EUR', amount: '12.34' },
    { commandName: 'createTransaction', commandId: newId('cmd'), now: new Date() },
  );
  const committed = performance.now();
  clock.committed.set(id, committed);
  clock.commandMs.push(committed - started);
};

type Row = {
  scenario: string;
  client: string;
  commands: number;
  commandP50: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
};

const summarise = (scenario: string, clock: Clock, commands: number): Row[] =>
  [...clock.received].map(([client, receipts]) => {
    const sorted = clock.latencies(receipts);
    return {
      scenario,
      client,
      commands,
      commandP50: percentile(Float64Array.from(clock.commandMs).sort(), 50),
      samples: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
    };
  });

const table = (rows: readonly Row[]) =>
  [
    '| scenario | client | commands | command p50 ms | received | p50 ms | p99 ms | max ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.client} | ${row.commands} | ${row.commandP50.toFixed(1)} | ${row.samples} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.max.toFixed(2)} |`,
    ),
  ].join('\n');

const untilReceived = async (clock: Clock, commands: number) => {
  const deadline = Date.now() + 30_000;
  while ([...clock.received.values()].some((receipts) => receipts.size < commands)) {
    if (Date.now() > deadline) throw new Error('subscribers did not receive every event within 30 s');
    await sleep(20);
  }
};

const main = async () => {
  const logger = createLogger('warn', { component: 'bench' });
  const target = await provideTarget(logger);
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

    for (let i = 0; i < settings.restCommands; i++) {
      await command(writer, clock)();
      await sleep(settings.restIntervalMs);
    }
    await untilReceived(clock, settings.restCommands);
    rows.push(...summarise(`rest (1 writer, 1 command per ${settings.restIntervalMs} ms)`, clock, settings.restCommands));
    clock.reset();

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

    const admin = postgres(target.url, { max: 1, onnotice: () => undefined });
    const [pg] = await admin<{ version: string; fsync: string; synchronous_commit: string }[]>`
      select version() as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`;
    await admin.end();
    const setup = [
      `- PostgreSQL: ${pg?.version} (fsync=${pg?.fsync}, synchronous_commit=${pg?.synchronous_commit}), ${target.embedded ? 'embedded' : 'DATABASE_URL'}`,
      '- two cairn instances on one database, each with its HTTP server; per instance one SSE and one graphql-ws subscriber to every `Transaction` event',
      '- writers: `createTransaction` through instance A (in-process poke); instance B hears of commits through LISTEN/NOTIFY',
      `- the stalled subscriber (last rows) never reads; it received ${stalled.payloads.length} events and its buffer (${apps[0]!.services.relay.subscriberBuffer} events) overflowed ${overflows} time(s)`,
      '- latency: from the command returning (commit acknowledged) to the client parsing the event, one process, one clock',
      `- machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    ];
    const report = table(rows);
    console.log(`${setup.join('\n')}\n\n${report}\n`);
    mkdirSync(path.dirname(settings.out), { recursive: true });
    const header = existsSync(settings.out)
      ? ''
      : '# Delivery latency, commit to client\n\nProduced by `npm run bench:latency` (test/bench/latency.ts); each run appends a section.\n';
    appendFileSync(settings.out, `${header}\n## ${new Date().toISOString()}\n\n${setup.join('\n')}\n\n${report}\n`);
    console.log(`appended to ${path.relative(process.cwd(), settings.out)}`);
  } finally {
    for (const close of closers) await close();
    for (const server of servers) await server.close();
    for (const app of apps) await app.close();
    await target.stop();
  }
};

await main();
