import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor, within } from './wait.js';
import { freePort } from '../../src/free-port.js';

/**
 * Debian's PgBouncer in transaction pooling mode, as a child process: for the pooled tests
 * (through test/helpers/pgbouncer.ts) and the bench's topology figure. It imports nothing of
 * vitest, so a bench process can load it.
 */
export type Pooler = {
  /** The target database's URL with the pooler's host and port. */
  readonly url: string;
  /** Another database of the same server, through the pooler. */
  urlFor(direct: string): string;
  readonly pid: number;
  /** Its log so far (connections, errors), for failure messages. */
  readonly output: readonly string[];
  /** `PgBouncer 1.18.0`, from its start-up line. */
  readonly version: string;
  stop(): Promise<void>;
};

const searchPath = () => [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];

const findBinary = (): string | undefined => {
  for (const dir of searchPath()) {
    const candidate = path.join(dir, 'pgbouncer');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
};

/** userlist.txt quotes: a double quote is written twice. */
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

/**
 * Starts PgBouncer (transaction pooling) in front of the database `target` names: its host, port,
 * user and password; every database name goes through. Clients log in to the pooler without a
 * password (`auth_type = trust`); the pooler logs in to PostgreSQL with the URL's password.
 */
export const startPgBouncer = async (target: string, options: { poolSize?: number; whoNeedsIt?: string } = {}): Promise<Pooler> => {
  const binary = findBinary();
  if (!binary) throw new Error(`pgbouncer is not installed, and ${options.whoNeedsIt ?? 'this run'} needs it (apt-get install -y pgbouncer)`);
  const server = new URL(target);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  // As root, pgbouncer must be told to switch to a user (`-u postgres`), who must read these files.
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-pgbouncer-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  writeFileSync(path.join(dir, 'userlist.txt'), `${quoted(user)} ${quoted(password)}\n`, { mode: 0o644 });
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${server.hostname.replace(/^\[|\]$/g, '')} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${options.poolSize ?? 10}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', ini] : [ini];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const output: string[] = [];
  let up = false;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.push(...chunk.split('\n').filter(Boolean));
    up ||= chunk.includes('process up');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  // A pooler must not outlive its test process, even one that dies without running afterAll.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (!gone()) child.kill('SIGTERM'); // SIGTERM: immediate shutdown, clients or not
    await within(exited, 'pgbouncer to stop', 5_000).catch(() => {
      child.kill('SIGKILL');
      return exited;
    });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => up || (gone() && Promise.reject(new Error('pgbouncer exited'))), 'pgbouncer to listen', 10_000);
  } catch (error) {
    await stop();
    throw new Error(`pgbouncer did not start (${String(error)}):\n${output.join('\n')}`);
  }
  const urlFor = (direct: string) => {
    const url = new URL(direct);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };
  const version = output.find((line) => /PgBouncer \d/.test(line))?.match(/PgBouncer [\d.]+/)?.[0] ?? 'PgBouncer';
  return { url: urlFor(target), urlFor, pid: child.pid!, output, version, stop };
};
