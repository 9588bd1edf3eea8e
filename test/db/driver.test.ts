import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { databaseUrl } from '../helpers/app.js';
import { countDatabaseWrites } from '../helpers/socket-writes.js';
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
  it('begins a transaction on a connection whose pipeline is full (UNSAFE_TRANSACTION upstream)', async () => {
    // Upstream tells a BEGIN its connection only when its write met no backpressure and the
    // connection's pipeline was short; otherwise BEGIN's answer found the connection unreserved
    // and the transaction failed. One transfer of 1,000 in the process-manager bench did. With no
    // room in the pipeline at all (max_pipeline 0), every transaction met that case.
    const sql = postgres(databaseUrl(), { max: 2, max_pipeline: 0, onnotice: () => undefined } as postgres.Options<{}>);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => sql.begin(async (tx) => (await tx`select ${n}::int as n`)[0]!.n as number)));
      expect(answers).toEqual(Array.from({ length: 20 }, (_, n) => n));
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('keeps the statements pipelined behind BEGIN inside the transaction, even when a named statement went missing', async () => {
    // Statements the server no longer has (behind a transaction pooler, or deallocated) are
    // retried, and a retry goes to the end of the pipeline. Were BEGIN named, its retry would run
    // after the statements sent behind it, and those outside the transaction. It is a simple
    // query (postgres.js sends `unsafe` without parameters so): the server keeps nothing to lose.
    const sql = postgres(databaseUrl(), { max: 1, fetch_types: false, onnotice: () => undefined });
    try {
      const heldInside = () =>
        sql.begin(async (tx) => {
          const lock = tx.unsafe('select pg_advisory_xact_lock($1::int, $2::int)', [8, 1], { prepare: true }).execute();
          const held = tx
            .unsafe(`select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and objid = 1`, [], { prepare: true })
            .execute();
          const [, [row]] = await Promise.all([lock, held]);
          return (row as unknown as { n: number }).n;
        });
      expect(await heldInside()).toBe(1);
      // Whatever the session holds named for a transaction's start is lost.
      const named = await sql<{ name: string }[]>`select name from pg_prepared_statements where statement ilike 'begin%'`;
      for (const { name } of named) await sql.unsafe(`deallocate "${name}"`);
      expect(await heldInside()).toBe(1);
      expect(named).toEqual([]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it("sends the statements a transaction queued while its pipeline was full together, not one per round trip", async () => {
    // A process manager's batch sends hundreds of statements on its transaction at once. Past the
    // pipeline's size they queue, and upstream sent the queued ones one per round trip.
    const sql = postgres(databaseUrl(), { max: 1, max_pipeline: 10, fetch_types: false, onnotice: () => undefined } as postgres.Options<{}>);
    let writes: ReturnType<typeof countDatabaseWrites> | undefined;
    try {
      await sql`select 1::int as warm, ${'x'}::text as up`; // prepares nothing the transaction needs, opens the connection
      writes = countDatabaseWrites();
      const answers = await sql.begin((tx) => Promise.all(Array.from({ length: 100 }, (_, n) => tx`select ${n}::int as n`.then(([row]) => row!.n as number))));
      expect(answers).toEqual(Array.from({ length: 100 }, (_, n) => n));
      // 100 statements, 10 at a time: about a dozen writes (one per pipelineful, BEGIN, COMMIT), not a hundred.
      expect(writes.count()).toBeLessThan(30);
    } finally {
      writes?.stop();
      await sql.end({ timeout: 5 });
    }
  });
});
