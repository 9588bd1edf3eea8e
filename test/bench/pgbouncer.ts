import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor, within } from '../helpers/wait.js';
import { freePort } from '../../src/free-port.js';

/**
 * Debian's PgBouncer in transaction pooling mode for a bench run: the same setup as
 * test/helpers/pgbouncer.ts (which the pooled tests use), without vitest, which that helper
 * imports and a bench process should not load.
 */
export type BenchPooler = {
  /** `direct`'s URL with the pooler's host and port. */
  urlFor(direct: string): string;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
};

const binary = (): string => {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, 'pgbouncer');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer); the topology figure needs it');
};

/** userlist.txt quotes: a double quote is written twice. */
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

/** Every database of `direct`'s server goes through; clients log in without a password, the pooler with the URL's. */
export const startBenchPooler = async (direct: string, options: { poolSize: number }): Promise<BenchPooler> => {
  const executable = binary();
  const server = new URL(direct);
  // As root, pgbouncer must switch to a user (`-u postgres`), who must read these files.
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-bench-pgbouncer-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  writeFileSync(userlist, `${quoted(decodeURIComponent(server.username || 'postgres'))} ${quoted(decodeURIComponent(server.password))}\n`, { mode: 0o644 });
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
      `auth_file = ${userlist}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${options.poolSize}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child = spawn(executable, process.getuid?.() === 0 ? ['-u', 'postgres', ini] : [ini], { stdio: ['ignore', 'ignore', 'pipe'] });
  const output: string[] = [];
  let up = false;
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.push(...chunk.split('\n').filter(Boolean));
    up ||= chunk.includes('process up');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const killOnExit = () => child.kill('SIGKILL'); // never outlive the bench, even one that dies
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (!gone()) child.kill('SIGTERM'); // immediate shutdown, clients or not
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
  const urlFor = (target: string) => {
    const url = new URL(target);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };
  const version = output.find((line) => /PgBouncer \d/.test(line))?.match(/PgBouncer [\d.]+/)?.[0] ?? 'PgBouncer';
  return { urlFor, pid: child.pid!, version, stop };
};
