import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { handleCommand, type CommandContext } from '../../src/eventstore/command.js';
import { AlreadyExistsError, IllegalStateError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay } from '../../src/eventstore/loaders.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { projectTransactions, transactionViews } from '../../src/modules/transactions/projection.js';
import { decide, evolve } from '../../src/modules/transactions/transaction.js';
import { useConnection } from '../helpers/app.js';
import { counter } from './counter.js';

const connection = useConnection();
const store = new PostgresEventStore(connection.db);
const context = (commandName: string): CommandContext => ({ commandName, commandId: newId('cmd'), now: new Date() });

const outboxRows = async (aggregateId: string) => {
  const rows = await connection.db.execute<{ count: string }>(
    sql`select count(*)::text as count from es.outbox o join es.events e on e.position = o.position where e.aggregate_id = ${aggregateId}`,
  );
  return Number(rows[0]!.count);
};

describe('one command, one transaction (PostgreSQL)', () => {
  it('writes events, stream, projection and outbox together', async () => {
    const id = newId('tx');
    await transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount: '5' }, context('createTransaction'));
    expect(await store.streamVersion(id)).toBe(1);
    expect(await outboxRows(id)).toBe(1);
    const [row] = await connection.db.select().from(transactionViews).where(eq(transactionViews.id, id));
    expect(row).toMatchObject({ id, version: 1, status: 'PROCESSING', amount: '5.000000000000000000' });
  });

  it("leaves a caller's transaction usable after a refused command: a process manager may catch ALREADY_EXISTS and go on", async () => {
    const existing = newId('tx');
    const next = newId('tx');
    const create = { type: 'CreateTransaction', currency: 'EUR', amount: '2' } as const;
    await transactionAggregate.handle(store, existing, create, context('createTransaction'), { newStream: true });
    await store.transaction(async (session) => {
      await expect(transactionAggregate.handleIn(session, existing, create, context('createTransaction'), { newStream: true })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      // The refusal wrote nothing and failed no statement: the transaction goes on and commits.
      await transactionAggregate.handleIn(session, next, create, context('createTransaction'), { newStream: true });
    });
    expect(await store.streamVersion(existing)).toBe(1);
    expect(await store.streamVersion(next)).toBe(1);
    const rows = await connection.db.select().from(transactionViews).where(eq(transactionViews.id, existing));
    expect(rows.map((row) => [row.version, row.amount])).toEqual([[1, '2.000000000000000000']]);
  });

  it('rolls the whole command back when a projection throws: no event, no row, no outbox', async () => {
    const id = newId('tx');
    const failing = async () => {
      throw new Error('projection failed');
    };
    await expect(
      handleCommand(
        store,
        {
          aggregateType: 'Transaction',
          aggregateId: id,
          load: transactionAggregate.load!,
          decide: (state) => decide({ type: 'CreateTransaction', currency: 'EUR', amount: '1' }, state),
          evolve,
          projections: [projectTransactions, failing],
          respond: async () => null,
        },
        context('createTransaction'),
      ),
    ).rejects.toThrow('projection failed');
    expect(await store.streamVersion(id)).toBeUndefined();
    expect(await store.readStream(id)).toEqual([]);
    expect(await outboxRows(id)).toBe(0);
    expect(await connection.db.select().from(transactionViews).where(eq(transactionViews.id, id))).toEqual([]);
  });

  it('lets concurrent commands without an expected version all land, by retrying conflicts', async () => {
    const id = newId('ctr');
    const add = () =>
      handleCommand(
        store,
        {
          aggregateType: 'Counter',
          aggregateId: id,
          load: replay(counter),
          decide: (state) => counter.decide({ type: 'Add', by: 1 }, state),
          evolve: counter.evolve,
          respond: async (_, outcome) => outcome.state.total,
        },
        context('add'),
      );
    const results = await Promise.all([add(), add(), add(), add()]);
    expect(results.map((r) => r.result).sort()).toEqual([1, 2, 3, 4]);
    expect((await store.readStream(id)).map((e) => e.version)).toEqual([1, 2, 3, 4]);
  });

  it('completes a transaction once when many try at the same time', async () => {
    const id = newId('tx');
    await transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount: '5' }, context('createTransaction'));
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, n) =>
        transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy: `user${n}` }, context('completeTransaction')),
      ),
    );
    const succeeded = attempts.filter((a) => a.status === 'fulfilled');
    const failed = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(succeeded).toHaveLength(1);
    expect(failed.every((a) => a.reason instanceof IllegalStateError)).toBe(true);
    expect((await store.readStream(id)).map((e) => e.type)).toEqual(['TransactionCreated', 'TransactionCompleted']);
  });
});
