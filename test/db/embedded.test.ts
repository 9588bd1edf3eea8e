import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { silentLogger } from '../../src/logger.js';
import { alive } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('./fixtures/start-embedded.ts', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'cairn-embedded-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the fixture in a child process and resolves with the pid of the postgres it started. */
const startInChild = (dataDir: string) =>
  new Promise<{ child: ReturnType<typeof spawn>; postmaster: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /postmaster (\d+)/.exec(output);
      if (match) resolve({ child, postmaster: Number(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`fixture exited with ${code} before postgres started`)));
  });

describe('embedded PostgreSQL', () => {
  it('keeps its data across restarts', async () => {
    const dataDir = path.join(root, 'persist');
    const first = await startEmbeddedPostgres({ dataDir, logger: silentLogger });
    const sql1 = postgres(first.url, { max: 1, onnotice: () => undefined });
    await sql1`create table kept (value text)`;
    await sql1`insert into kept values ('still here')`;
    await sql1.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir, logger: silentLogger });
    const sql2 = postgres(second.url, { max: 1 });
    try {
      expect(await sql2`select value from kept`).toEqual([{ value: 'still here' }]);
    } finally {
      await sql2.end();
      await second.stop();
    }
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('takes over a directory whose owner file names a pid another process now has', async () => {
    const dataDir = path.join(root, 'reused');
    await (await startEmbeddedPostgres({ dataDir, logger: silentLogger })).stop();
    // pid 1 runs, but it is not the process that wrote this (its start time differs).
    const stale = { pid: 1, role: 'server', port: 1, url: 'postgres://nowhere', ready: true, startTime: '1' };
    writeFileSync(path.join(dataDir, 'cairn-owner.json'), JSON.stringify(stale));

    const started = await startEmbeddedPostgres({ dataDir, logger: silentLogger });
    try {
      expect(started.shared).toBe(false);
      expect(JSON.parse(readFileSync(path.join(dataDir, 'cairn-owner.json'), 'utf8'))).toMatchObject({ pid: process.pid, ready: true });
    } finally {
      await started.stop();
    }
    expect(existsSync(path.join(dataDir, 'cairn-owner.json'))).toBe(false);
  });

  it('stops a postgres left running by a SIGKILLed parent before starting again', async () => {
    const dataDir = path.join(root, 'stale');
    const { child, postmaster } = await startInChild(dataDir);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(alive(postmaster)).toBe(true); // the orphan a killed parent leaves behind

    const restarted = await startEmbeddedPostgres({ dataDir, logger: silentLogger });
    try {
      expect(alive(postmaster)).toBe(false);
      const sql = postgres(restarted.url, { max: 1 });
      expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
      await sql.end();
    } finally {
      await restarted.stop();
    }
    await waitFor(() => !existsSync(path.join(dataDir, 'postmaster.pid')), 'postgres to remove its pid file');
  });
});
