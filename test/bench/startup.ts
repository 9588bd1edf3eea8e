/**
 * Start-up of the compiled server (issue 16, goal 6): `node dist/main.js` → `/ready` answers 200,
 * with an existing embedded data directory and with DATABASE_URL (the bench's database, already
 * migrated), the median of BENCH_STARTUP_RUNS runs each.
 *
 * The build is `npm run build`'s bundle (scripts/build.mjs, esbuild; the type check before it is
 * left out) with its output in a temporary folder instead of dist/, so that the bench does not overwrite a dist/ someone is using; beside
 * it, links to the project's node_modules and drizzle/ and a copy of package.json give
 * `dist/main.js` the same surroundings it has in the project. The embedded variant's data
 * directory is created by a first start that is not measured (initdb). Each measured start: spawn
 * `node dist/main.js` (PORT, HOST=127.0.0.1, LOG_LEVEL=info), poll GET /ready every 5 ms until 200;
 * the server's own `startupMs` (logged with "cairn is ready", from its first line of code) is
 * reported beside. Then SIGTERM to its pid and wait for it to exit (it stops its PostgreSQL).
 *
 * Alone: `npx tsx test/bench/startup.ts`. Knobs: BENCH_STARTUP_RUNS=5.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Figure, FigureRunner, Goal } from './figure.js';
import { positive } from './target.js';
import { runAlone } from './alone.js';
import { freePort } from '../../src/free-port.js';

const goalMs = 1_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

/** `npm run build`'s bundle (scripts/build.mjs) into `folder`/dist, with the project's surroundings linked beside it. */
const build = (folder: string): number => {
  const started = performance.now();
  const result = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--outdir', path.join(folder, 'dist')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the build failed:\n${result.stdout}${result.stderr}`);
  symlinkSync(path.join(root, 'node_modules'), path.join(folder, 'node_modules'));
  symlinkSync(path.join(root, 'drizzle'), path.join(folder, 'drizzle'));
  copyFileSync(path.join(root, 'package.json'), path.join(folder, 'package.json'));
  return performance.now() - started;
};

const ready = async (port: number): Promise<boolean> => {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/ready`);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
};

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) {
    child.kill('SIGKILL');
    await exited;
  }
};

type Start = { readonly readyMs: number; readonly loggedMs: number };

/** One start: spawn, poll /ready, read the logged startupMs, stop. */
const startOnce = async (folder: string, env: Record<string, string>): Promise<Start> => {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(folder, 'dist/main.js')], {
    cwd: folder,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    while (!(await ready(port))) {
      if (child.exitCode !== null) throw new Error(`node dist/main.js exited (${child.exitCode}) before /ready:\n${output.slice(-2_000)}`);
      if (performance.now() - started > 120_000) throw new Error(`no /ready within 120 s:\n${output.slice(-2_000)}`);
      await sleep(5);
    }
    const readyMs = performance.now() - started;
    const logged = /"startupMs":(\d+)/.exec(output);
    return { readyMs, loggedMs: logged ? Number(logged[1]) : Number.NaN };
  } finally {
    await stop(child);
  }
};

/** A postgres left running by a start that had to be killed: stop it by the pid its data directory names. */
const stopOrphan = (dataDir: string) => {
  const pidFile = ['pg', 'data', '.'].map((dir) => path.join(dataDir, dir, 'postmaster.pid')).find((file) => existsSync(file));
  if (!pidFile) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
};

type Variant = { readonly name: string; readonly runs: readonly Start[] };

export const startup: FigureRunner = async ({ target, progress }: BenchContext) => {
  const runs = positive('BENCH_STARTUP_RUNS', 5);
  const folder = mkdtempSync(path.join(tmpdir(), 'cairn-bench-startup-'));
  chmodSync(folder, 0o755); // as root, the embedded server runs as the postgres user
  const dataDir = path.join(folder, 'data');
  const variants: Variant[] = [];
  let buildMs = 0;
  let firstStart: Start | undefined;
  try {
    progress('startup: building (scripts/build.mjs into a temporary folder)');
    buildMs = build(folder);
    progress(`startup: built in ${(buildMs / 1_000).toFixed(1)} s; first start of the embedded data directory (initdb, not measured)`);
    firstStart = await startOnce(folder, { CAIRN_DATA_DIR: dataDir });
    for (const [name, env] of [
      ['embedded PostgreSQL, existing data directory', { CAIRN_DATA_DIR: dataDir }],
      ['DATABASE_URL (the bench database, migrated)', { DATABASE_URL: target.url }],
    ] as const) {
      const starts: Start[] = [];
      for (let i = 0; i < runs; i++) starts.push(await startOnce(folder, env));
      variants.push({ name, runs: starts });
      progress(`startup: ${name}: ${starts.map((start) => Math.round(start.readyMs)).join(', ')} ms to /ready`);
    }
  } finally {
    stopOrphan(dataDir);
    rmSync(folder, { recursive: true, force: true });
  }
  return [figure(variants, { runs, buildMs, firstStart })];
};

const figure = (variants: readonly Variant[], facts: { runs: number; buildMs: number; firstStart: Start | undefined }): Figure => {
  const goals: Goal[] = variants.map((variant) => {
    const value = median(variant.runs.map((run) => run.readyMs));
    return { goal: `start-up, compiled, ${variant.name}: spawn → /ready 200 (median)`, target: `< ${goalMs} ms`, result: `${Math.round(value)} ms`, met: value < goalMs };
  });
  return {
    id: 'startup',
    title: 'Start-up: compiled JavaScript (node dist/main.js) to /ready',
    setup: [
      `build: \`node scripts/build.mjs\` (the esbuild bundle \`npm run build\` makes after its type check) with --outdir in a temporary folder, ${(facts.buildMs / 1_000).toFixed(1)} s; beside dist/, links to the project's node_modules and drizzle/ and a copy of package.json`,
      `each start: \`node dist/main.js\` spawned by the bench with PORT (a free one), HOST=127.0.0.1, LOG_LEVEL=info; the bench polls GET /ready every 5 ms until 200; then SIGTERM and wait for the exit (the embedded PostgreSQL stops with it); ${facts.runs} starts per variant (BENCH_STARTUP_RUNS), median reported`,
      `embedded: CAIRN_DATA_DIR in the temporary folder, created by a first start not measured (initdb and migrations: ${facts.firstStart ? `${Math.round(facts.firstStart.readyMs)} ms to /ready` : '–'}); DATABASE_URL: the bench's database on its PostgreSQL server, already migrated`,
      '"logged" is the server\'s own `startupMs` from its "cairn is ready" line (from its first line of code, so without Node\'s own start and module loading before it)',
    ],
    columns: ['variant', 'median ms', 'min ms', 'max ms', 'every run ms', 'logged startupMs (median)'],
    rows: variants.map((variant) => {
      const ready = variant.runs.map((run) => run.readyMs);
      return [
        variant.name,
        Math.round(median(ready)),
        Math.round(Math.min(...ready)),
        Math.round(Math.max(...ready)),
        ready.map((ms) => Math.round(ms)).join(', '),
        Math.round(median(variant.runs.map((run) => run.loggedMs))),
      ];
    }),
    goals,
    bars: variants.map((variant) => ({ group: 'start-up to /ready', label: variant.name, value: median(variant.runs.map((run) => run.readyMs)), unit: 'ms' })),
    values: Object.fromEntries(variants.map((variant, i) => [`startup-ms@${i === 0 ? 'embedded' : 'database-url'}`, median(variant.runs.map((run) => run.readyMs))])),
  };
};

await runAlone(import.meta.url, 'startup', startup);
