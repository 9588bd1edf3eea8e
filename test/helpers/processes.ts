import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import { waitFor, within } from './wait.js';

/** cairn's processes as an operator runs them: `node` on an entry point, configured by environment. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

export type CairnProcess = {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stderr lines (the JSON log) so far. */
  readonly stderr: readonly string[];
  readonly stdout: readonly string[];
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
};

const running = new Set<CairnProcess>();
afterAll(() => Promise.all([...running].map((process) => stopProcess(process))));

/**
 * Runs `node <args>` (or `command <args>`) in the project directory with only PATH and HOME,
 * and `env`, in its environment.
 */
export const spawnCairn = (args: readonly string[], env: Record<string, string>, command = process.execPath): CairnProcess => {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const stdout: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const spawned: CairnProcess = { child, pid: child.pid!, stderr, stdout, exited: closed };
  running.add(spawned);
  // The run's global teardown stops it should this file never reach its afterAll (see global-setup.ts).
  const record = path.join(inject('spawnedRecord'), String(child.pid));
  writeFileSync(record, [command, ...args].join('\0') + '\0');
  void closed.then(() => {
    running.delete(spawned);
    rmSync(record, { force: true });
  });
  return spawned;
};

/** The TypeScript sources through tsx, as `npm start` runs them. */
export const tsx = (entry: string): string[] => ['--import', 'tsx', entry];

/** Runs to completion (or fails after `timeoutMs`). */
export const runToExit = async (args: readonly string[], env: Record<string, string>, timeoutMs = 60_000, command?: string) => {
  const started = spawnCairn(args, env, command);
  const code = await within(started.exited, `${args.join(' ')} to exit`, timeoutMs);
  return { code, stderr: started.stderr, stdout: started.stdout, pid: started.pid };
};

/** SIGTERM, then SIGKILL when it does not stop in time. */
export const stopProcess = async (spawned: CairnProcess, signal: NodeJS.Signals = 'SIGTERM') => {
  if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill(signal);
  return within(spawned.exited, 'the process to stop', 15_000).catch(() => {
    spawned.child.kill('SIGKILL');
    return spawned.exited;
  });
};

/** The port of the "cairn is ready" log line, if this is that line. */
export const readyPort = (line: string): number | undefined => {
  try {
    const entry = JSON.parse(line) as { msg?: string; graphql?: string };
    return entry.msg === 'cairn is ready' && entry.graphql ? Number(new URL(entry.graphql).port) : undefined;
  } catch {
    return undefined;
  }
};

/** Starts a server and waits until /ready answers 200; fails with its log if it exits first. */
export const startServer = async (args: readonly string[], env: Record<string, string>, command?: string) => {
  const server = spawnCairn(args, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }, command);
  let exited = false;
  void server.exited.then(() => (exited = true));
  const port = await waitFor(
    () => {
      if (exited) throw new Error(`the server exited before it was ready:\n${server.stderr.join('\n')}`);
      return server.stderr.map(readyPort).find((found) => found !== undefined);
    },
    'the server to listen',
    60_000,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, 'the server to be ready', 30_000);
  return { ...server, base };
};

/** Pids of the processes whose environment has `name=value` (children inherit it), from /proc. */
export const processesWithEnv = (name: string, value: string): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${name}=${value}`);
      } catch {
        return false;
      }
    })
    .map(Number);

/** Pids of the postgres processes running on `dataDir` (its postmaster and backends), from /proc. */
export const postgresOn = (dataDir: string): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('-D') && args[args.indexOf('-D') + 1] === dataDir;
      } catch {
        return false;
      }
    })
    .map(Number);

/** The postmaster's pid from its lock file, if it has one. */
export const postmasterOf = (dataDir: string): number | undefined => {
  const file = path.join(dataDir, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
};

/** Running, and not a zombie waiting for a parent that does not reap it. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
};
