import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { silentLogger } from '../src/logger.js';
import { postgresOn, processesWithEnv, runToExit, startServer, tsx } from './helpers/processes.js';
import { waitFor } from './helpers/wait.js';

// Issue 11.6: start-up and shutdown as operators run them. Each case runs the server in a
// process of its own, configured by environment, and looks at what it printed, its exit code
// and what it left running.
const root = mkdtempSync(path.join(tmpdir(), 'cairn-main-'));
chmodSync(root, 0o755); // the postgres user must reach the data directories
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(root, `data-${++dirs}`);

const main = tsx('src/main.ts');
/** Only warnings and errors, so that a failure is the one line on stderr. */
const quiet = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' };

/** Exactly one line on stderr: a JSON log line at level error whose message matches. */
const expectOneLine = (stderr: readonly string[], message: RegExp) => {
  expect(stderr, stderr.join('\n')).toHaveLength(1);
  const line = JSON.parse(stderr[0]!) as { level: string; msg: string };
  expect(line.level).toBe('error');
  expect(line.msg).toMatch(message);
  expect(stderr[0]).not.toMatch(/\n\s+at /); // no stack trace folded into it either
  return line;
};

const listening = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
/** A port nothing listens on: bound, then closed. */
const closedPort = async () => {
  const server = createServer();
  const port = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
};

// A PostgreSQL of this file's own that checks passwords (the machine's trusts every local user).
const passwordChecked = await startEmbeddedPostgres({ dataDir: path.join(root, 'password-checked'), logger: silentLogger });
afterAll(() => passwordChecked.stop());

describe('start-up failures: one line, exit 1, nothing left running', () => {
  it('PORT already in use: stops its embedded PostgreSQL and exits', async () => {
    const blocker = createServer();
    const port = await listening(blocker);
    const dataDir = freshDir();
    try {
      const run = await runToExit(main, { ...quiet, PORT: String(port), CAIRN_DATA_DIR: dataDir }, 30_000);

      expect(run.code).toBe(1);
      expectOneLine(run.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      expect(postgresOn(dataDir)).toEqual([]);
      expect(readdirSync(dataDir)).not.toContain('cairn-owner.json');
    } finally {
      blocker.close();
    }
  });

  it('an unreachable database: says where, never the password', async () => {
    const port = await closedPort();
    const run = await runToExit(main, { ...quiet, DATABASE_URL: `postgres://postgres:s3cret@127.0.0.1:${port}/cairn` });

    expect(run.code).toBe(1);
    const line = expectOneLine(run.stderr, new RegExp(`cannot connect to the database at 127\\.0\\.0\\.1:${port}.*refused`));
    expect(JSON.stringify(line)).not.toContain('s3cret');
  });

  it('a wrong password', async () => {
    const url = new URL(passwordChecked.url);
    url.password = 'not-the-password';
    const run = await runToExit(main, { ...quiet, DATABASE_URL: url.toString() });

    expect(run.code).toBe(1);
    const line = expectOneLine(run.stderr, /password authentication failed for user "postgres"/);
    expect(JSON.stringify(line)).not.toContain('not-the-password');
  });

  it.each([
    ['PORT', { PORT: '80000' }, /^PORT must be an integer between 0 and 65535, got "80000"$/],
    ['PORT', { PORT: 'http' }, /^PORT must be an integer/],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of debug, info, warn, error, silent, got "loud"$/],
    [
      'NODE_ENV=production without a key',
      { NODE_ENV: 'production' },
      /^NODE_ENV=production needs CAIRN_JWT_SECRET or CAIRN_JWKS_URL; set CAIRN_AUTH=none to run without authentication$/,
    ],
    ['CAIRN_JWT_SECRET', { CAIRN_JWT_SECRET: 'short' }, /^CAIRN_JWT_SECRET must be at least 32 bytes \(HS256\)$/],
  ])('a bad %s (%o): before anything starts', async (_name, bad, message) => {
    const dataDir = freshDir();
    const run = await runToExit(main, { ...quiet, CAIRN_DATA_DIR: dataDir, ...bad });

    expect(run.code).toBe(1);
    expectOneLine(run.stderr, message);
    expect(() => statSync(dataDir)).toThrow(); // not even created
  });

  it('a data directory that cannot be one (under a file)', async () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const run = await runToExit(main, { ...quiet, CAIRN_DATA_DIR: path.join(file, 'data') });

    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /data directory .*a-file\/data cannot be used: ENOTDIR/);
  });

  it('a non-empty directory that is no data directory: refused, not chowned, not touched', async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { mode: 0o755 });
    writeFileSync(path.join(dataDir, 'notes.txt'), 'mine\n');
    const before = statSync(dataDir);

    const run = await runToExit(main, { ...quiet, CAIRN_DATA_DIR: dataDir });

    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /is neither empty nor a PostgreSQL data directory/);
    const after = statSync(dataDir);
    expect([after.uid, after.gid, after.mode]).toEqual([before.uid, before.gid, before.mode]);
    expect(readdirSync(dataDir)).toEqual(['notes.txt']);
    expect(postgresOn(dataDir)).toEqual([]);
  });
});

describe('signals as operators send them', () => {
  it('SIGTERM to the pid of `npm start` stops the server and its PostgreSQL', async () => {
    const dataDir = freshDir();
    const npm = await startServer(['start'], { CAIRN_DATA_DIR: dataDir }, 'npm');
    expect(postgresOn(dataDir).length).toBeGreaterThan(0);

    npm.child.kill('SIGTERM');

    await waitFor(
      () => processesWithEnv('CAIRN_DATA_DIR', dataDir).length === 0 && postgresOn(dataDir).length === 0,
      'the server and its PostgreSQL to stop',
      20_000,
    );
    expect(await npm.exited).toBe(0);
  });

  it('the compiled server (npm run build, node dist/main.js) finds its migrations and stops on SIGTERM', async () => {
    const build = await runToExit(['run', 'build'], {}, 120_000, 'npm');
    expect(build.code, build.stdout.concat(build.stderr).join('\n')).toBe(0);
    const dataDir = freshDir();

    const server = await startServer(['dist/main.js'], { CAIRN_DATA_DIR: dataDir });
    const response = await fetch(`${server.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { createOrder(input: { name: "compiled" }) { __typename } }' }),
    });
    expect(await response.json()).toEqual({ data: { createOrder: { __typename: 'CreateOrderSuccess' } } });
    server.child.kill('SIGTERM');

    expect(await server.exited).toBe(0);
    expect(postgresOn(dataDir)).toEqual([]);
  }, 180_000);
});
