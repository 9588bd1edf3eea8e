import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import type { Logger } from '../../src/logger.js';

/** A fresh, migrated database for one bench run, dropped (and its embedded server stopped) by `stop`. */
export type Target = { readonly url: string; readonly embedded: boolean; stop(): Promise<void> };

/** A PostgreSQL server for a bench run that hands out fresh, migrated databases. */
export type BenchServer = {
  readonly embedded: boolean;
  /** A new database on the server, migrated; its `stop` drops it. */
  database(): Promise<Target>;
  /** Drops what is left and stops an embedded server. */
  stop(): Promise<void>;
};

/** DATABASE_URL's server when set, else an embedded PostgreSQL in a temp dir. */
export const provideServer = async (logger: Logger): Promise<BenchServer> => {
  const external = process.env.DATABASE_URL;
  let serverUrl = external;
  let stopServer = async () => undefined as void;
  if (!serverUrl) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-bench-'));
    chmodSync(dataDir, 0o755); // as root the server runs as the postgres user
    const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
    try {
      const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), logger, ownSignals: true });
      serverUrl = pg.url;
      stopServer = async () => {
        await pg.stop();
        removeDir();
      };
    } catch (error) {
      removeDir();
      throw error;
    }
  }
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  const open = new Set<string>();
  const drop = async (database: string) => {
    open.delete(database);
    await admin`drop database if exists ${admin(database)} with (force)`.catch((error: unknown) =>
      logger.warn('could not drop the bench database', { database, error }),
    );
  };
  let made = 0;
  return {
    embedded: !external,
    async database() {
      const database = `cairn_bench_${process.pid}_${Date.now().toString(36)}_${made++}`;
      await admin`create database ${admin(database)}`;
      open.add(database);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      try {
        await runMigrations(url.toString());
      } catch (error) {
        await drop(database);
        throw error;
      }
      return { url: url.toString(), embedded: !external, stop: () => drop(database) };
    },
    async stop() {
      for (const database of [...open]) await drop(database);
      await admin.end({ timeout: 5 });
      await stopServer();
    },
  };
};

/** One fresh database on DATABASE_URL's server or an embedded one; `stop` drops it and stops the server. */
export const provideTarget = async (logger: Logger): Promise<Target> => {
  const server = await provideServer(logger);
  try {
    const target = await server.database();
    return { ...target, stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
};

/** The setup line naming a target's PostgreSQL server, where it runs and its durability settings. */
export const describePostgres = async (target: Pick<Target, 'url' | 'embedded'>): Promise<string> => {
  const client = postgres(target.url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await client<{ version: string; fsync: string; synchronous_commit: string }[]>`
      select version() as version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`;
    return `PostgreSQL: ${row?.version.split(' on ')[0]} (${target.embedded ? 'embedded' : 'DATABASE_URL'}), fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit}`;
  } finally {
    await client.end({ timeout: 5 });
  }
};

/** The p-th percentile of an ascending array. */
export const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** A positive integer setting from the environment (`BENCH_…`), or its default. */
export const positive = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
};

/** The comma-separated items of an environment variable, trimmed; undefined when it is unset or empty. */
const items = (name: string): string[] | undefined => {
  const raw = process.env[name]?.trim();
  return raw ? raw.split(',').map((item) => item.trim()).filter(Boolean) : undefined;
};

/** A comma-separated list of positive integers from the environment (`BENCH_…`), or its default. */
export const positives = (name: string, fallback: readonly number[]): readonly number[] => {
  const listed = items(name);
  if (!listed) return fallback;
  const values = listed.map(Number);
  if (!values.every((value) => Number.isInteger(value) && value > 0)) {
    throw new Error(`${name} must list positive integers, got "${process.env[name]}"`);
  }
  return values;
};

/** A comma-separated list of names from the environment, each one of `known`, or its default. */
export const names = <Name extends string>(name: string, known: readonly Name[], fallback: readonly Name[]): readonly Name[] => {
  const listed = items(name);
  if (!listed) return fallback;
  const unknown = listed.filter((item) => !(known as readonly string[]).includes(item));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return listed as Name[];
};
