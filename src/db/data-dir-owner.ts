import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Who runs the embedded PostgreSQL of a data directory: the process that started it writes this
 * file there (`cairn-owner.json`) before starting it and removes it after stopping it. A later
 * process reads it to tell a live owner (whose database it must never stop) from a dead one (a
 * SIGKILLed parent, whose orphaned postgres it stops and replaces).
 */
export type Owner = {
  readonly pid: number;
  /** A server refuses to share a data directory; a script (migrate, rebuild) uses the running database. */
  readonly role: 'server' | 'script';
  readonly port: number;
  readonly url: string;
  /** False while the owner is still starting PostgreSQL. */
  readonly ready: boolean;
  /** The owner's start time as Linux counts it (/proc/<pid>/stat), so a reused pid is not taken for it. */
  readonly startTime?: string;
};

const fileOf = (dataDir: string) => path.join(dataDir, 'cairn-owner.json');

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name), or undefined without /proc. */
const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
};

export const readOwner = (dataDir: string): Owner | undefined => {
  try {
    const owner = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as Owner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
};

/** The owner process still runs (the same process, not another that got its pid). */
export const ownerAlive = (owner: Owner): boolean => {
  if (owner.pid === process.pid || !running(owner.pid)) return false;
  const now = startTimeOf(owner.pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
};

/** Writes the file unless it exists (atomically: O_EXCL); true when this process is now the owner. */
export const claimOwnership = (dataDir: string, owner: Omit<Owner, 'pid' | 'startTime' | 'ready'>): boolean => {
  const startTime = startTimeOf(process.pid);
  const content: Owner = { pid: process.pid, ...owner, ready: false, ...(startTime && { startTime }) };
  try {
    writeFileSync(fileOf(dataDir), JSON.stringify(content), { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
};

/** Marks this process's database as started (written aside, then renamed: readers never see half a file). */
export const markReady = (dataDir: string): void => {
  const owner = readOwner(dataDir);
  if (owner?.pid !== process.pid) return;
  const aside = `${fileOf(dataDir)}.${process.pid}`;
  writeFileSync(aside, JSON.stringify({ ...owner, ready: true }), { mode: 0o644 });
  renameSync(aside, fileOf(dataDir));
};

/** Removes the file if it names `pid` (this process, or a dead owner being replaced). */
export const releaseOwnership = (dataDir: string, pid: number = process.pid): void => {
  if (readOwner(dataDir)?.pid === pid) rmSync(fileOf(dataDir), { force: true });
};
