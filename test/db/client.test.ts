import { eq, sql } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '../../src/db/client.js';
import { streams } from '../../src/eventstore/tables.js';
import { databaseUrl } from '../helpers/app.js';

/** The statements this session has prepared (named), as PostgreSQL lists them. */
const preparedOf = async (db: ReturnType<typeof connect>['db']) =>
  (await db.execute<{ statement: string }>(sql`select statement from pg_prepared_statements`)).map((row) => row.statement);

describe('the database client', () => {
  it('names the statements drizzle sends, in and out of transactions, so repeats take one round trip', async () => {
    const connection = connect(databaseUrl(), { max: 1 });
    onTestFinished(() => connection.close());
    const byId = (id: string) => connection.db.select().from(streams).where(eq(streams.aggregateId, id));
    await byId('none-1');
    await connection.db.transaction(async (tx) => {
      await tx.select({ version: streams.version }).from(streams).where(eq(streams.aggregateId, 'none-2'));
    });
    const prepared = await preparedOf(connection.db);
    expect(prepared.some((statement) => statement.startsWith('select "aggregate_id"'))).toBe(true);
    expect(prepared.some((statement) => statement.startsWith('select "version"'))).toBe(true);
  });

  it('sends them unnamed when told to, for poolers that cannot keep prepared statements', async () => {
    const connection = connect(databaseUrl(), { max: 1, prepare: false });
    onTestFinished(() => connection.close());
    await connection.db.select().from(streams).where(eq(streams.aggregateId, 'none-3'));
    await connection.db.transaction((tx) => tx.select().from(streams).where(eq(streams.aggregateId, 'none-4')));
    // postgres.js's own `commit` included: behind a transaction pooler, a named commit lost writes.
    expect(await preparedOf(connection.db)).toEqual([]);
  });
});
