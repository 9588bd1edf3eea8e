import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { accountAggregate } from '../../src/modules/accounts/aggregate.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { databaseUrl } from '../helpers/app.js';
import { countDatabaseWrites } from '../helpers/socket-writes.js';

/**
 * What a command costs on the wire, statement by statement (postgres.js's debug hook), and in
 * writes to the socket: statements that need no answer before them go out together in one write
 * and come back in one round trip. BEGIN, the stream's lock and the load; then the append and
 * the projection's write; then COMMIT. A command that starts a stream loads nothing, so its
 * append and projection go out with BEGIN. One more round trip is a regression.
 */
const writes = countDatabaseWrites();
afterAll(() => writes.stop());

describe('round trips per command', () => {
  const sent: string[] = [];
  const client = postgres(databaseUrl(), {
    max: 1,
    fetch_types: false,
    onnotice: () => undefined,
    debug: (_connection, query) => sent.push(query.replace(/\s+/g, ' ').trim()),
  });
  afterAll(() => client.end({ timeout: 5 }));
  const store = new PostgresEventStore(drizzle({ client }));
  const context = (commandName: string) => ({ commandName, commandId: newId('cmd'), now: new Date() });
  const traced = async (command: () => Promise<unknown>): Promise<string[]> => {
    sent.length = 0;
    await command();
    return [...sent];
  };
  /** Writes to the socket one command takes: one per round trip. */
  const roundTrips = async (command: () => Promise<unknown>): Promise<number> => {
    const before = writes.count();
    await command();
    return writes.count() - before;
  };
  /** A statement's verb and table, e.g. `select transaction_views for update`. */
  const shape = (statement: string) => {
    if (/^(begin|commit)$/i.test(statement)) return statement.toLowerCase();
    if (statement.startsWith('with stream as')) return 'append';
    if (statement.includes('pg_advisory_xact_lock')) return 'lock stream';
    const [, verb, table] = /^(select|insert into|update|delete from) .*?"?(\w+)"? (?:where|values|set|\(|$)/i.exec(statement) ?? [];
    const target = verb === 'select' ? /from "?\w+"?\."?(\w+)"?/.exec(statement)?.[1] : table;
    return `${verb} ${target}${/ for update$/.test(statement) ? ' for update' : ''}`;
  };

  it('reads a view-loaded aggregate once: the projection and the answer reuse the locked or written row', async () => {
    const id = newId('tx');
    const created = await traced(() => transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount: '12.34' }, context('createTransaction')));
    expect(created.map(shape)).toEqual(['begin', 'lock stream', 'select transaction_views for update', 'append', 'insert into transaction_views', 'commit']);
    const completed = await traced(() => transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy: 'ops' }, context('completeTransaction')));
    expect(completed.map(shape)).toEqual(['begin', 'lock stream', 'select transaction_views for update', 'append', 'update transaction_views', 'commit']);
  });

  it('sends the lock with the load, the projection with the append: three round trips for a command, two for one that starts a stream', async () => {
    // Each kind of command once first: a statement's first run on a connection also parses it.
    const transaction = async () => {
      const id = newId('tx');
      const created = await roundTrips(() =>
        transactionAggregate.handle(store, id, { type: 'CreateTransaction', currency: 'EUR', amount: '1' }, context('createTransaction'), { newStream: true }),
      );
      const completed = await roundTrips(() => transactionAggregate.handle(store, id, { type: 'CompleteTransaction', doneBy: 'ops' }, context('completeTransaction')));
      return [created, completed];
    };
    const account = async () => {
      const id = newId('acc');
      const open = { type: 'OpenAccount', owner: 'ada', currency: 'EUR', initialBalance: '10.00' } as const;
      const opened = await roundTrips(() => accountAggregate.handle(store, id, open, context('openAccount'), { newStream: true }));
      const credited = await roundTrips(() => accountAggregate.handle(store, id, { type: 'CreditAccount', amount: '5.00' }, context('creditAccount')));
      return [opened, credited];
    };
    await transaction();
    await account();
    expect(await transaction()).toEqual([2, 3]);
    // An account also reads its latest snapshot and the events after it: in the same round trip.
    expect(await account()).toEqual([2, 3]);
  });

  it('reads a snapshot-loaded aggregate once too: its lock serves the projection', async () => {
    const id = newId('acc');
    const opened = await traced(() =>
      accountAggregate.handle(store, id, { type: 'OpenAccount', owner: 'ada', currency: 'EUR', initialBalance: '10.00' }, context('openAccount'), { newStream: true }),
    );
    // Opening starts the stream: there is nothing to read.
    expect(opened.map(shape)).toEqual(['begin', 'lock stream', 'append', 'insert into accounts', 'commit']);
    const credited = await traced(() => accountAggregate.handle(store, id, { type: 'CreditAccount', amount: '5.00' }, context('creditAccount')));
    expect(credited.map(shape)).toEqual(['begin', 'lock stream', 'select accounts for update', 'select snapshots', 'select events', 'append', 'update accounts', 'commit']);
  });
});
