import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { databaseUrl } from './app.js';
import { waitFor } from './wait.js';

/** How many backends wait on `pid`, directly or behind another waiter. */
export const waitersOn = async (db: Database, pid: number): Promise<number> => {
  const [row] = await db.execute<{ n: number }>(sql`
    with recursive waiting (pid) as (
      select a.pid from pg_stat_activity a where ${pid}::int = any (pg_blocking_pids(a.pid))
      union
      select a.pid from pg_stat_activity a join waiting w on w.pid = any (pg_blocking_pids(a.pid))
    )
    select count(*)::int as n from waiting`);
  return row?.n ?? 0;
};

/** Resolves once `count` backends wait on `pid` (a lock wait is a condition, not a time). */
export const untilWaiting = (db: Database, pid: number, count: number, what: string) =>
  waitFor(async () => (await waitersOn(db, pid)) >= count, what);

/**
 * A transaction held open on a connection of its own, to make others wait at a chosen point:
 * `run` statements in it, then `commit()` or `rollback()`.
 */
export type HeldTransaction = {
  readonly pid: number;
  run(statement: (sql: postgres.TransactionSql) => Promise<unknown>): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
};

export const holdTransaction = async (): Promise<HeldTransaction> => {
  const client = postgres(databaseUrl(), { max: 1, onnotice: () => undefined });
  afterAll(() => client.end({ timeout: 5 }));
  type Step = { statement: (sql: postgres.TransactionSql) => Promise<unknown>; done: (error?: unknown) => void };
  const steps: Step[] = [];
  let outcome: 'commit' | 'rollback' | null = null;
  let signal: (() => void) | null = null;
  const notify = () => {
    signal?.();
    signal = null;
  };
  let ready!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (ready = resolve));
  const rolledBack = new Error('rolled back on purpose');
  const finished = client
    .begin(async (tx) => {
      const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      ready(row!.pid);
      for (;;) {
        for (let step = steps.shift(); step; step = steps.shift()) {
          const current = step;
          await current.statement(tx).then(() => current.done(), current.done);
        }
        if (outcome === 'commit') return;
        if (outcome === 'rollback') throw rolledBack;
        await new Promise<void>((resolve) => {
          signal = resolve;
          if (steps.length > 0 || outcome) notify();
        });
      }
    })
    .catch((error: unknown) => {
      if (error !== rolledBack) throw error;
    });
  const end = async (how: 'commit' | 'rollback') => {
    outcome = how;
    notify();
    await finished;
  };
  return {
    pid: await pid,
    run: (statement) =>
      new Promise<void>((resolve, reject) => {
        steps.push({ statement, done: (error) => (error === undefined ? resolve() : reject(error)) });
        notify();
      }),
    commit: () => end('commit'),
    rollback: () => end('rollback'),
  };
};

/** A promise opened from outside: for a test to stop a transaction at a chosen point. */
export const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
};
