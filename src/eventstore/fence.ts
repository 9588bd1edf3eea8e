import { sql, type SQL } from 'drizzle-orm';

/**
 * The commit-safe fence: the oldest transaction id still running anywhere in the cluster. Every
 * transaction below it has ended, so a row written by one of them can no longer be joined by a
 * row committed later with a smaller position. Readers of the log (the relay, process managers,
 * the `events` query, lag figures) only go up to it.
 *
 * It is spelled out in each statement rather than computed once in a CTE: only as this stable
 * expression does PostgreSQL use it in an index condition (through a CTE the relay's read
 * scanned the whole outbox).
 */
export const fence: SQL = sql`pg_snapshot_xmin(pg_current_snapshot())`;

/** Rows written by transactions older than every running one: nothing can commit before them. */
export const commitSafe = (transactionId: SQL | SQL.Aliased | object): SQL => sql`${transactionId} < ${fence}`;
