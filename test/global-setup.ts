import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { runMigrations } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** Where test files record the processes they spawn (see test/helpers/processes.ts). */
    spawnedRecord: string;
  }
}

/**
 * Stops every process a test file spawned and did not see end: a file that fails while it is
 * collected (a missing chromium, say) runs none of its afterAll hooks. Each record holds the
 * process's command line, checked against /proc first, so a reused pid is never hit.
 */
const stopLeftovers = (record: string) => {
  for (const name of readdirSync(record)) {
    const pid = Number(name);
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (commandLine === readFileSync(path.join(record, name), 'utf8')) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(record, { recursive: true, force: true });
};

/**
 * One database per test run: a fresh embedded PostgreSQL when DATABASE_URL is absent, otherwise
 * a fresh database on that server. Tests use fresh ids instead of truncating, so files run in parallel.
 */
export default async function setup(project: TestProject) {
  const logger = createLogger('warn', { component: 'test-setup' });
  const spawnedRecord = mkdtempSync(path.join(tmpdir(), 'cairn-test-spawned-'));
  project.provide('spawnedRecord', spawnedRecord);
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-test-'));
    chmodSync(dataDir, 0o755); // the postgres user must reach its data directory
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), logger });
    serverUrl = embedded.url;
  }
  const database = `cairn_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  const teardown = async () => {
    stopLeftovers(spawnedRecord);
    await admin`drop database if exists ${admin(database)} with (force)`.catch(() => undefined);
    await admin.end({ timeout: 5 });
    await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await admin`create database ${admin(database)}`;
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    await runMigrations(url.toString());
    project.provide('databaseUrl', url.toString());
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
