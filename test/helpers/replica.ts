import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll } from 'vitest';
import { waitFor } from './wait.js';
import { freePort } from '../../src/free-port.js';

/**
 * A real primary and a streaming replica made from it with `pg_basebackup -R`, from Debian's
 * PostgreSQL binaries (`pg_config --bindir`; not on PATH). Both run on free loopback ports in a
 * temporary directory, as the postgres user when we are root (PostgreSQL refuses to run as root),
 * and are stopped (by `pg_ctl`) and removed after the file.
 */
export type ReplicatedCluster = { readonly primaryUrl: string; readonly replicaUrl: string };

const binDir = (): string => {
  const found = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error("a replica needs Debian's PostgreSQL binaries: `pg_config --bindir` failed (apt-get install postgresql)");
  }
  return found.stdout.trim();
};

export const useReplicatedCluster = async (): Promise<ReplicatedCluster> => {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  /** Runs a PostgreSQL program, as the postgres user when we are root. */
  const run = (program: string, args: string[]) => {
    const [command, all] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]] : [path.join(bin, program), args];
    return execFileSync(command, all, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  };
  const root = mkdtempSync(path.join(tmpdir(), 'cairn-replica-'));
  chmodSync(root, 0o755);
  const own = (dir: string) => {
    mkdirSync(dir, { mode: 0o700 });
    if (asRoot) {
      const { uid, gid } = { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
      chownSync(dir, uid, gid);
    }
    return dir;
  };
  const primaryDir = path.join(root, 'primary');
  const replicaDir = path.join(root, 'replica');
  const sockets = own(path.join(root, 'sockets'));
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const started: string[] = [];
  const stop = () => {
    for (const dir of started.reverse()) {
      try {
        run('pg_ctl', ['-D', dir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  afterAll(stop);
  try {
    own(primaryDir);
    run('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
    writeFileSync(
      path.join(primaryDir, 'pg_hba.conf'),
      'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
    );
    const options = (port: number) => `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${sockets} -c fsync=off`;
    run('pg_ctl', ['-D', primaryDir, '-o', options(primaryPort), '-l', path.join(primaryDir, 'log'), '-w', 'start']);
    started.push(primaryDir);
    own(replicaDir);
    run('pg_basebackup', ['-D', replicaDir, '-R', '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-X', 'stream']);
    run('pg_ctl', ['-D', replicaDir, '-o', options(replicaPort), '-l', path.join(replicaDir, 'log'), '-w', 'start']);
    started.push(replicaDir);
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? '';
    stop();
    throw new Error(`could not start a primary and its replica: ${String(error)}\n${detail}`);
  }
  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;
  const replica = postgres(replicaUrl, { max: 1, onnotice: () => undefined });
  try {
    await waitFor(async () => (await replica`select pg_is_in_recovery() as standby`.catch(() => []))[0]?.standby === true, 'the replica to stream', 30_000);
  } finally {
    await replica.end();
  }
  return { primaryUrl, replicaUrl };
};
