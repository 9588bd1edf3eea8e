import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import type { Logger } from '../../src/logger.js';

/** A fresh, migrated database for one bench run, dropped (and its embedded server stopped) by `stop`. */
export type Target = { readonly url: string; readonly embedded: boolean; stop(): Promise<void> };

/** On DATABASE_URL's server when set, else on an embedded PostgreSQL in a temp dir. */
export const provideTarget = async (logger: Logger): Promise<Target> => {
  let serverUrl = process.env.DATABASE_URL;
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
  const database = `cairn_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  const stop = async () => {
    await admin`drop database if exists ${admin(database)} with (force)`.catch((error: unknown) =>
      logger.warn('could not drop the bench database', { database, error }),
    );
    await admin.end({ timeout: 5 });
    await stopServer();
  };
  try {
    await admin`create database ${admin(database)}`;
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    await runMigrations(url.toString());
    return { url: url.toString(), embedded: !process.env.DATABASE_URL, stop };
  } catch (error) {
    await stop();
    throw error;
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
