import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, postgresOn, postmasterOf, runToExit, startServer, stopProcess, tsx } from '../helpers/processes.js';

// Issue 11.5: with the embedded database, a second process on the same CAIRN_DATA_DIR stopped
// the running server's PostgreSQL (the stale-process check did not ask whether its owner was
// alive), and the first server answered 503 forever.
const root = mkdtempSync(path.join(tmpdir(), 'cairn-shared-'));
chmodSync(root, 0o755); // the postgres user must reach its data directory
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataDir = path.join(root, 'data');
const env = { CAIRN_DATA_DIR: dataDir };

const server = await startServer(tsx('src/main.ts'), env);
const postmaster = postmasterOf(dataDir)!;

/** The first server still answers, on the very same postgres. */
const expectFirstServerUntouched = async () => {
  expect((await fetch(`${server.base}/ready`)).status).toBe(200);
  expect(postmasterOf(dataDir)).toBe(postmaster);
  expect(alive(postmaster)).toBe(true);
};

describe('two cairn processes on one embedded data directory', () => {
  it('a second server refuses to start, naming the first, and touches nothing', async () => {
    const second = await runToExit(tsx('src/main.ts'), { ...env, HOST: '127.0.0.1', PORT: '0' });

    expect(second.code).toBe(1);
    expect(second.stderr).toHaveLength(1);
    expect(JSON.parse(second.stderr[0]!)).toMatchObject({
      level: 'error',
      msg: `another cairn server (pid ${server.pid}) is using ${dataDir}`,
    });
    await expectFirstServerUntouched();
  });

  it('npm run db:migrate uses the running database and leaves it running', async () => {
    const migrate = await runToExit(tsx('src/cli/migrate.ts'), env);

    expect(migrate.code, migrate.stderr.join('\n')).toBe(0);
    expect(migrate.stderr.join('\n')).toContain('using the embedded PostgreSQL of another cairn process');
    await expectFirstServerUntouched();
  });

  it('npm run projections:rebuild uses the running database and leaves it running', async () => {
    const rebuild = await runToExit(tsx('src/cli/rebuild.ts').concat('transaction_views'), env);

    expect(rebuild.code, rebuild.stderr.join('\n')).toBe(0);
    expect(rebuild.stderr.join('\n')).toContain('projection rebuilt');
    await expectFirstServerUntouched();
  });

  it('once the server has stopped, a script starts the database itself and stops it again', async () => {
    expect(await stopProcess(server)).toBe(0);
    expect(postgresOn(dataDir)).toEqual([]);

    const migrate = await runToExit(tsx('src/cli/migrate.ts'), env);

    expect(migrate.code, migrate.stderr.join('\n')).toBe(0);
    expect(migrate.stderr.join('\n')).not.toContain('another cairn process');
    expect(postgresOn(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'cairn-owner.json'))).toBe(false);
  });
});
