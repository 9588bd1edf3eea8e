import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl } from '../helpers/app.js';
import { usePgBouncer } from '../helpers/pgbouncer.js';

// Statements pipelined in a transaction behind PgBouncer in transaction mode with prepared
// statements left on: the transaction moves between server connections, so its named statements
// are missing where they arrive. postgres.js 3.4.9 retried such a statement at the end of the
// pipeline: in the failed transaction it met statements the server had discarded, and waited
// for their answers forever. The patch retries a statement only outside a transaction, where a
// retry can succeed.
const pooler = await usePgBouncer();
const direct = postgres(databaseUrl(), { max: 1, onnotice: () => undefined });
afterAll(() => direct.end({ timeout: 5 }));
const table = `driver_pipeline_${process.pid}`;
await direct.unsafe(`create table if not exists ${table} (id int primary key)`);
afterAll(() => direct.unsafe(`drop table if exists ${table}`));

describe('postgres.js behind PgBouncer with prepared statements left on (patched)', () => {
  it('settles every pipelined transaction: a failure writes nothing, a success ran all in one transaction', async () => {
    const sql = postgres(pooler.url, { max: 4, fetch_types: false, onnotice: () => undefined });
    afterAll(() => sql.end({ timeout: 5 }));
    const transaction = (id: number) =>
      sql.begin(async (tx) => {
        // Three statements in one write, none waiting for the one before it.
        const lock = tx.unsafe('select pg_advisory_xact_lock($1::int, $2::int)', [7, id], { prepare: true }).execute();
        const insert = tx.unsafe(`insert into ${table} (id) values ($1)`, [id], { prepare: true }).execute();
        const held = tx
          .unsafe(`select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and objid = $1::int`, [id], {
            prepare: true,
          })
          .execute();
        const [, , [row]] = await Promise.all([lock, insert, held]);
        return (row as unknown as { n: number }).n;
      });
    const ids = Array.from({ length: 160 }, (_, n) => n + 1);
    const outcomes = await Promise.allSettled(ids.map((id) => transaction(id)));

    const written = new Set((await direct.unsafe<{ id: number }[]>(`select id from ${table}`)).map((row) => row.id));
    const succeeded = ids.filter((_, n) => outcomes[n]!.status === 'fulfilled');
    const failed = ids.filter((_, n) => outcomes[n]!.status === 'rejected');
    // The lock was still held when the third statement ran: all three ran inside the transaction.
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => (outcome as PromiseFulfilledResult<number>).value)).toEqual(
      succeeded.map(() => 1),
    );
    expect(succeeded.filter((id) => !written.has(id)), 'acknowledged but not written').toEqual([]);
    expect(failed.filter((id) => written.has(id)), 'failed but written').toEqual([]);
    expect(succeeded.length, 'some went through').toBeGreaterThan(0);
  });
});
