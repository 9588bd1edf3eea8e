import { createRequire } from 'node:module';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { databaseUrl } from '../helpers/app.js';

// What a transaction pooler does to a named `commit` (issue 11.1), without the pooler: the
// server connection forgets the statement, the driver's Bind fails and aborts the transaction,
// the driver retries with a fresh Parse, and PostgreSQL answers COMMIT in an aborted transaction
// with the command tag ROLLBACK and no error. The patched driver rejects such a transaction.
// patches/postgres+3.4.9.patch changes both copies the package ships: ES module and CommonJS.
const copies = { 'ES module': postgres, CommonJS: createRequire(import.meta.url)('postgres') as typeof postgres };

describe.each(Object.entries(copies))('a transaction whose COMMIT is not answered COMMIT (%s)', (_name, driver) => {
  const sql = driver(databaseUrl(), { max: 1, onnotice: () => undefined, fetch_types: false });
  const table = `commit_check_${newId('t').slice(2).toLowerCase()}`;
  afterAll(async () => {
    await sql`drop table if exists ${sql(table)}`;
    await sql.end();
  });

  it('rejects, and what it wrote is not there', async () => {
    await sql`create table ${sql(table)} (id text primary key)`;
    await sql.begin((tx) => tx`select 1`); // the connection has now prepared its `commit`

    const outcome = sql.begin(async (tx) => {
      await tx`insert into ${sql(table)} values ('lost')`;
      await tx.unsafe('deallocate all', [], { prepare: false }); // as the pooler's other server connection would be
    });

    await expect(outcome).rejects.toMatchObject({ code: 'TRANSACTION_NOT_COMMITTED' });
    expect(await sql`select id from ${sql(table)}`).toEqual([]);
  });

  it('resolves as before when it commits', async () => {
    await sql.begin((tx) => tx`insert into ${sql(table)} values ('kept')`);
    expect(await sql`select id from ${sql(table)}`).toEqual([{ id: 'kept' }]);
  });
});
