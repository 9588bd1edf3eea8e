import { Decimal } from 'decimal.js';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/client.js';
import type { CommandContext } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { rebuildViewProjection } from '../../src/eventstore/rebuild.js';
import { viewAtVersion } from '../../src/eventstore/view-projection.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { evolveTransactionView, projectTransactions, transactionViews } from '../../src/modules/transactions/projection.js';
import { aggregateType } from '../../src/modules/transactions/transaction.js';
import { useIsolatedDatabase } from '../helpers/app.js';
import { usePgBouncer } from '../helpers/pgbouncer.js';

// Issue 11.3: the rebuild kept its rows in pg_temp tables across several transactions, and
// behind a transaction pooler each transaction may run on another server connection.
const database = await useIsolatedDatabase(); // a rebuild rewrites the whole table
const pooler = await usePgBouncer(database, { poolSize: 3 });
const direct = connect(database, { max: 2 });
// Commands go through the pooler too, so the rebuild's transactions share its server connections.
const pooled = connect(pooler.url, { max: 6, prepare: false });
afterAll(() => Promise.all([direct.close(), pooled.close()]));
const store = new PostgresEventStore(pooled.db);
const context = (commandName: string): CommandContext => ({ commandName, commandId: newId('cmd'), now: new Date() });
const rows = () => direct.db.select().from(transactionViews).orderBy(asc(transactionViews.id));
const create = async () => {
  const id = newId('tx');
  await transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount: '2.5' }, context('createTransaction'));
  return id;
};

/** Every row equals its stream folded up to the stream's version, and every stream has its row. */
const expectRowsMatchStreams = async () => {
  const streams = await direct.db.execute<{ aggregate_id: string; version: number }>(
    sql`select aggregate_id, version from es.streams where aggregate_type = ${aggregateType} order by aggregate_id`,
  );
  const folded = await Promise.all(streams.map((s) => viewAtVersion(store, s.aggregate_id, s.version, evolveTransactionView)));
  const expected = folded.map((view) => view && { ...view, amount: new Decimal(view.amount).toFixed(18) });
  expect(await rows()).toEqual(expected.sort((a, b) => (a!.id < b!.id ? -1 : 1)));
};

describe('a projection rebuild through PgBouncer in transaction mode', () => {
  it('rebuilds the rows from the events over many page transactions while commands go through the same pooler', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, create));
    for (const id of ids.slice(0, 10)) await transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy: 'ada' }, context('complete'));
    await direct.db.update(transactionViews).set({ amount: '999' }).where(eq(transactionViews.id, ids[3]!));
    await direct.db.delete(transactionViews).where(eq(transactionViews.id, ids[12]!));
    let stopping = false;
    let written = 0;
    const writer = async () => {
      while (!stopping) {
        const id = await create();
        if (written++ % 2 === 0) await transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy: 'bob' }, context('complete'));
      }
    };
    const writers = Array.from({ length: 4 }, writer);

    const target = { projection: projectTransactions, aggregateType };
    const result = await rebuildViewProjection(pooler.url, target, { pageSize: 4, preparedStatements: false }).finally(async () => {
      stopping = true;
      await Promise.all(writers);
    });

    expect(written).toBeGreaterThan(0);
    expect(result.pages).toBeGreaterThan(8);
    expect(result.deleted).toBeGreaterThanOrEqual(1); // the corrupted row, replaced
    await expectRowsMatchStreams();
  });
});
