import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Decimal } from 'decimal.js';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/client.js';
import type { CommandContext } from '../../src/eventstore/command.js';
import { EventStoreError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { foldStreams, rebuildViewProjection, type RebuildOptions } from '../../src/eventstore/rebuild.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { viewAtVersion } from '../../src/eventstore/view-projection.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { evolveTransactionView, projectTransactions, transactionViews } from '../../src/modules/transactions/projection.js';
import { aggregateType } from '../../src/modules/transactions/transaction.js';
import { useIsolatedDatabase } from '../helpers/app.js';
import { within } from '../helpers/wait.js';

// A rebuild rewrites the whole table, so it gets a database of its own.
const url = await useIsolatedDatabase();
const connection = connect(url, { max: 10 });
afterAll(() => connection.close());
const store = new PostgresEventStore(connection.db);
const target = { projection: projectTransactions, aggregateType };

const context = (commandName: string): CommandContext => ({ commandName, commandId: newId('cmd'), now: new Date() });
const rows = () => connection.db.select().from(transactionViews).orderBy(asc(transactionViews.id));
const rebuild = (options: RebuildOptions = {}) => rebuildViewProjection(url, target, { pageSize: 7, ...options });
const rebuildThenHang = fileURLToPath(new URL('./fixtures/rebuild-then-hang.ts', import.meta.url));
/** The tables in the rebuilds' own schema. */
const workTables = async () =>
  (
    await connection.db.execute<{ name: string }>(
      sql`select relname as name from pg_class where relnamespace = 'cairn_rebuild'::regnamespace and relkind = 'r' order by 1`,
    )
  ).map((row) => row.name);

const create = async (amount = '12.50'): Promise<string> => {
  const id = newId('tx');
  await transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount }, context('createTransaction'));
  return id;
};
const complete = (id: string, doneBy = 'ada') => transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy }, context('completeTransaction'));

/** Every row equals its stream folded up to the stream's version, and every stream has its row. */
const expectRowsMatchStreams = async () => {
  const streams = await connection.db.execute<{ aggregate_id: string; version: number }>(
    sql`select aggregate_id, version from es.streams where aggregate_type = ${aggregateType} order by aggregate_id`,
  );
  const folded = await Promise.all(streams.map((s) => viewAtVersion(store, s.aggregate_id, s.version, evolveTransactionView)));
  // The table stores numeric(36, 18): compare amounts as the table renders them.
  const expected = folded.map((view) => view && { ...view, amount: new Decimal(view.amount).toFixed(18) });
  expect(await rows()).toEqual(expected.sort((a, b) => (a!.id < b!.id ? -1 : 1)));
};

describe('rebuildViewProjection', () => {
  it('rebuilds exactly the rows the commands wrote, versions included', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => create(`${i + 1}.25`)));
    for (const id of ids.slice(0, 12)) await complete(id, `clerk-${id.slice(-4)}`);
    const before = await rows();
    expect(before).toHaveLength(30);

    const result = await rebuild();

    expect(await rows()).toEqual(before);
    expect(result).toMatchObject({ events: 42, streams: 30, rows: 30, refolded: 0, deleted: 0, inserted: 0 });
    expect(result.pages).toBe(7); // 42 events, 7 per page: six full pages and an empty one
  });

  it('restores rows that were corrupted, deleted or made up', async () => {
    const [kept, corrupted, deleted] = await Promise.all([create(), create(), create()]);
    await complete(corrupted!);
    const before = await rows();
    await connection.db
      .update(transactionViews)
      .set({ amount: '999', status: 'PROCESSING', doneBy: null, version: 7 })
      .where(eq(transactionViews.id, corrupted!));
    await connection.db.delete(transactionViews).where(eq(transactionViews.id, deleted!));
    const now = new Date();
    await connection.db.insert(transactionViews).values({
      id: newId('tx'),
      version: 1,
      status: 'PROCESSING',
      currency: 'EUR',
      amount: '1',
      createdAt: now,
      updatedAt: now,
    });

    const result = await rebuild();

    expect(await rows()).toEqual(before);
    expect(before.map((row) => row.id)).toContain(kept);
    expect(result).toMatchObject({ deleted: 2, inserted: 2, rows: before.length });
  });

  it('folds each stream in version order, whatever the log order', async () => {
    // The store never writes a stream out of order in the log; written by hand in one transaction,
    // version 2 before version 1, the (transaction id, position) order puts the completion first.
    const id = newId('tx');
    const event = (version: number, type: string, data: object) => sql`
      insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
      values (${newId('evt')}, ${id}, ${aggregateType}, ${version}, ${type}, ${JSON.stringify(data)}::jsonb, '{}'::jsonb, now())`;
    await connection.db.transaction(async (tx) => {
      await tx.execute(sql`insert into es.streams (aggregate_id, aggregate_type, version) values (${id}, ${aggregateType}, 2)`);
      await tx.execute(event(2, 'TransactionCompleted', { doneBy: 'bob' }));
      await tx.execute(event(1, 'TransactionCreated', { currency: 'EUR', amount: '5' }));
    });
    const log = await store.readLog({ aggregateId: id, limit: 10 });
    expect(log.map((e) => e.version)).toEqual([2, 1]);

    await rebuild();

    const [row] = await connection.db.select().from(transactionViews).where(eq(transactionViews.id, id));
    expect(row).toMatchObject({ status: 'COMPLETED', doneBy: 'bob', version: 2, currency: 'EUR' });
    await expectRowsMatchStreams();
  });

  it('is safe while commands keep writing the projection', async () => {
    const open = await Promise.all(Array.from({ length: 40 }, () => create()));
    let stopping = false;
    let written = 0;
    const writer = async () => {
      while (!stopping) {
        const id = await create();
        if (written % 2 === 0) await complete(id);
        const older = open.pop();
        if (older) await complete(older);
        written++;
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    // An id that sorts before every KSUID: created after the first page, the scan has already passed it.
    const early = `tx_${'0'.repeat(27)}`;
    let pages = 0;

    const result = await rebuild({
      pageSize: 5,
      onPage: async () => {
        if (++pages !== 1) return;
        await transactionAggregate.handle(store, early, { type: 'CreateTransaction', currency: 'EUR', amount: '3' }, context('createTransaction'));
        await complete(early);
      },
    }).finally(async () => {
      stopping = true;
      await Promise.all(writers);
    });

    expect(written).toBeGreaterThan(0);
    expect(result.refolded).toBeGreaterThan(0);
    await expectRowsMatchStreams();
  });

  it('refuses to empty a table when no stream is of the aggregate type', async () => {
    const before = await rows();
    expect(before.length).toBeGreaterThan(0);
    await expect(rebuildViewProjection(url, { projection: projectTransactions, aggregateType: 'Nope' })).rejects.toThrow(
      EventStoreError,
    );
    expect(await rows()).toEqual(before);
  });

  it('leaves none of its own tables behind, whether it succeeds or fails', async () => {
    await rebuild();
    await expect(rebuildViewProjection(url, { projection: projectTransactions, aggregateType: 'Nope' })).rejects.toThrow();

    expect(await workTables()).toEqual(['runs']);
    expect(await connection.db.execute(sql`select id from cairn_rebuild.runs`)).toEqual([]);
  });

  it('drops the tables a killed rebuild left once it has been idle for staleAfterMs, and never those of a live one', async () => {
    await create();
    const child = spawn(process.execPath, ['--import', 'tsx', rebuildThenHang, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const folded = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('page folded') && resolve());
      child.once('exit', (code) => reject(new Error(`the rebuild exited with ${code} before its first page`)));
    });
    await within(folded, 'the first page', 20_000);
    child.kill('SIGKILL');
    await exited;
    const left = await workTables();
    expect(left).toHaveLength(3); // runs, and the killed run's rows_ and versions_
    // A table with no run at all, as a crash of PostgreSQL (which empties unlogged tables) leaves.
    await connection.db.execute(sql`create table cairn_rebuild.rows_0123456789abcdef (id text)`);

    // Seconds after its last page the killed run looks alive: its tables stay.
    expect(await rebuild({ staleAfterMs: 60_000 })).toMatchObject({ cleanedUp: 1 });
    expect(await workTables()).toEqual(left);

    await connection.db.execute(sql`update cairn_rebuild.runs set alive_at = alive_at - interval '2 minutes'`);
    expect(await rebuild({ staleAfterMs: 60_000 })).toMatchObject({ cleanedUp: 1 });
    expect(await workTables()).toEqual(['runs']);
    await expectRowsMatchStreams();
  });

  it('rejects a stream with a gap in its versions', () => {
    const event = (version: number) => ({ aggregateId: 'tx_a', version }) as RecordedEvent;
    expect(() => foldStreams(() => ({}), [event(1), event(3)])).toThrow(EventStoreError);
  });
});
