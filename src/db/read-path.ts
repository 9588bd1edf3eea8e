import { sql } from 'drizzle-orm';
import { PostgresEventReader } from '../eventstore/postgres-store.js';
import type { EventReader } from '../eventstore/store.js';
import type { Database } from './client.js';

/** Where a query reads: a pool and the event store's read side on it. */
export type Reader = { readonly db: Database; readonly store: EventReader; readonly replica: boolean };

/**
 * Queries read a replica when `DATABASE_READ_URL` names one; everything else (commands, cursor
 * validation, process managers, the relay) stays on the primary. A replica lags: a client that
 * must read its own write sends back the token its mutation answered with (the primary's WAL
 * position after the commit), and its query reads the replica once the replica has replayed
 * that far, waiting up to `waitMs`, or else the primary.
 */
export type ReadPath = {
  readonly replica: boolean;
  /**
   * The primary's flushed WAL position, read after the caller's commit: a read-your-writes token
   * (absent without a replica). A commit is flushed before it returns (synchronous_commit), and a
   * replica can only replay what was flushed, so this is the earliest position that is enough.
   */
  tokenAfterCommit(): Promise<string | undefined>;
  /** The replica once it has replayed `token` (within the wait), else the primary; the replica straight away without a token. */
  reader(token?: string): Promise<Reader>;
  /** The replica once it has replayed `lsn` (within the wait), else the primary; the primary when `lsn` is unknown. */
  readerAt(lsn: string | undefined): Promise<Reader>;
  readonly primary: Reader;
};

/** A WAL position (`16/B374D848`) as a number that orders like PostgreSQL's pg_lsn. */
export const parseLsn = (lsn: string): bigint => {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
};

export const lsnPattern = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

const replayPollMs = 2;

export const createReadPath = (options: {
  readonly primary: Database;
  readonly replica?: Database;
  /** The longest a query waits for the replica to replay its token before it reads the primary. */
  readonly waitMs: number;
}): ReadPath => {
  const primary: Reader = { db: options.primary, store: new PostgresEventReader(options.primary), replica: false };
  const replicaDb = options.replica;
  if (!replicaDb) {
    return {
      replica: false,
      primary,
      tokenAfterCommit: async () => undefined,
      reader: async () => primary,
      readerAt: async () => primary,
    };
  }
  const replica: Reader = { db: replicaDb, store: new PostgresEventReader(replicaDb), replica: true };

  // One poll of the replica serves every waiting query; it runs only while someone waits.
  let replayedUpTo = -1n;
  const waiters = new Set<{ readonly lsn: bigint; readonly done: (replayed: boolean) => void }>();
  let polling = false;
  const poll = async () => {
    polling = true;
    try {
      while (waiters.size > 0) {
        const [row] = await replicaDb.execute<{ lsn: string | null }>(sql`select pg_last_wal_replay_lsn()::text as lsn`);
        // Not in recovery (a primary given as the read URL): it has everything.
        replayedUpTo = row?.lsn ? parseLsn(row.lsn) : BigInt(Number.MAX_SAFE_INTEGER) << 32n;
        for (const waiter of waiters) {
          if (waiter.lsn <= replayedUpTo) {
            waiters.delete(waiter);
            waiter.done(true);
          }
        }
        if (waiters.size > 0) await new Promise((resolve) => setTimeout(resolve, replayPollMs));
      }
    } catch {
      for (const waiter of waiters) waiter.done(false);
      waiters.clear();
    } finally {
      polling = false;
    }
  };
  const replayed = (lsn: string | undefined): Promise<boolean> => {
    if (lsn === undefined || !lsnPattern.test(lsn)) return Promise.resolve(false);
    const target = parseLsn(lsn);
    if (target <= replayedUpTo) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter = {
        lsn: target,
        done: (value: boolean) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      const timer = setTimeout(() => {
        if (waiters.delete(waiter)) resolve(false);
      }, options.waitMs);
      waiters.add(waiter);
      if (!polling) void poll();
    });
  };

  // Commits that finish in the same turn share one read of the WAL position, taken after all of them.
  let scheduled: Promise<string | undefined> | null = null;
  const tokenAfterCommit = () => {
    scheduled ??= new Promise<string | undefined>((resolve) =>
      setImmediate(() => {
        scheduled = null;
        options.primary
          .execute<{ lsn: string }>(sql`select pg_current_wal_flush_lsn()::text as lsn`)
          .then(([row]) => resolve(row?.lsn), () => resolve(undefined));
      }),
    );
    return scheduled;
  };

  return {
    replica: true,
    primary,
    tokenAfterCommit,
    reader: async (token) => (token === undefined || (await replayed(token)) ? replica : primary),
    readerAt: async (lsn) => ((await replayed(lsn)) ? replica : primary),
  };
};
