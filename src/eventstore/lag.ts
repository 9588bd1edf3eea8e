import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { fence } from './fence.js';
import type { LogPosition } from './types.js';

/** Counting stops here: past it the exact backlog no longer matters, and the scan stays cheap. */
export const lagCountCap = 10_000;

/** The oldest running transaction that holds an xid, and so holds back the commit-safe fence. */
export type FenceHolder = { readonly pid: number; readonly ageMs: number; readonly query: string };

/** Committed outbox rows after `cursor` (fenced or not), capped at {@link lagCountCap}. */
export const eventsAfter = async (db: Database, cursor: LogPosition): Promise<number> => {
  const result = await db.execute<{ count: number }>(sql`
    select count(*)::int as count from (
      select 1 from es.outbox
       where (transaction_id, position) > (${String(cursor.transactionId)}::xid8, ${String(cursor.position)}::bigint)
       limit ${lagCountCap}) backlog`);
  return result[0]?.count ?? 0;
};

/**
 * How many committed outbox rows readers cannot see yet because an older transaction is still
 * open, counted down the outbox's index from its newest row (ordered so, the planner walks the
 * index instead of scanning the whole table for rows at or past the fence).
 */
export const behindFenceCount: SQL = sql`
    select count(*)::int as count from (
      select 1 from es.outbox
       where transaction_id >= ${fence}
       order by transaction_id desc
       limit ${lagCountCap}) held`;

/** Committed outbox rows that readers cannot see yet because an older transaction is still open. */
export const eventsBehindFence = async (db: Database): Promise<number> => {
  const result = await db.execute<{ count: number }>(behindFenceCount);
  return result[0]?.count ?? 0;
};

/**
 * The oldest transaction in the cluster that has taken an xid, or undefined. Any such transaction
 * keeps the fence (the snapshot's xmin) at or below its xid, whichever database it runs in.
 */
export const oldestFenceHolder = async (db: Database): Promise<FenceHolder | undefined> => {
  const result = await db.execute<{ pid: number; age_ms: number; query: string | null }>(sql`
    select pid, (extract(epoch from clock_timestamp() - xact_start) * 1000)::float8 as age_ms,
           left(query, 200) as query
      from pg_stat_activity
     where backend_xid is not null and xact_start is not null
     order by xact_start
     limit 1`);
  const row = result[0];
  return row ? { pid: row.pid, ageMs: Math.max(0, row.age_ms), query: row.query ?? '' } : undefined;
};
