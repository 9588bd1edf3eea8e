import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { databaseUrl } from '../helpers/app.js';
import { waitFor, within } from '../helpers/wait.js';

// postgres.js 3.4.9 can throw an uncaught TypeError from a write scheduled on a socket that has
// just closed (porsager/postgres#1154, #1208), which kills the process; patches/ fixes it.
// Vitest fails a run on any uncaught exception, so surviving this test is the assertion.
describe('the PostgreSQL driver (patched)', () => {
  it('survives backends terminated under load, and the pool recovers', async () => {
    const name = `cairn-driver-test-${process.pid}`;
    const sql = postgres(databaseUrl(), {
      max: 4,
      fetch_types: false, // as src/db/client.ts
      onnotice: () => undefined,
      connection: { application_name: name },
    });
    const killer = postgres(databaseUrl(), { max: 1 });
    let stop = false;
    let kills = 0;
    const killing = (async () => {
      const until = Date.now() + 1_000; // a second of kills, then the pool must recover
      while (!stop && Date.now() < until) {
        const ended = await killer`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`;
        kills += ended.length;
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    try {
      let settled = 0;
      const transactions = Array.from({ length: 200 }, (_, n) =>
        sql
          .begin(async (tx) => {
            await tx`select ${n}::int as n`;
            await tx`select pg_sleep(0.002)`;
          })
          .finally(() => settled++),
      );
      const outcomes = await within(Promise.allSettled(transactions), 'the transactions to settle', 8_000).catch(
        () => undefined, // a rare transaction may never settle on a killed connection (see README)
      );
      stop = true;
      await killing;
      expect(settled).toBeGreaterThan(190);
      if (outcomes) expect(outcomes.some((outcome) => outcome.status === 'rejected')).toBe(true);
      expect(kills).toBeGreaterThan(0);
      const rows = await waitFor(
        () => within(sql`select 1 as ok`, 'a query').then((result) => [...result], () => undefined),
        'the pool to answer again',
      );
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      stop = true;
      await killing;
      await within(sql.end({ timeout: 1 }), 'the pool to close').catch(() => undefined);
      await killer.end();
    }
  });
});
