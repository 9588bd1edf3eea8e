import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { creditAccount, openAccount } from '../../src/modules/accounts/commands.js';
import { completeTransaction, createTransaction } from '../../src/modules/transactions/commands.js';
import { databaseUrl } from '../helpers/app.js';

/**
 * What a command costs on the wire, statement by statement (postgres.js's debug hook): each is
 * one round trip, and a command is a handful of them, so one more is a regression.
 */
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
  /** A statement's verb and table, e.g. `select transaction_views for update`. */
  const shape = (statement: string) => {
    if (/^(begin|commit)$/i.test(statement)) return statement.toLowerCase();
    if (statement.startsWith('with stream as')) return 'append';
    const [, verb, table] = /^(select|insert into|update|delete from) .*?"?(\w+)"? (?:where|values|set|\(|$)/i.exec(statement) ?? [];
    const target = verb === 'select' ? /from "\w+"\."(\w+)"/.exec(statement)?.[1] : table;
    return `${verb} ${target}${/ for update$/.test(statement) ? ' for update' : ''}`;
  };

  it('reads a view-loaded aggregate once: the projection and the answer reuse the locked or written row', async () => {
    const id = newId('tx');
    const created = await traced(() => createTransaction(store, { id, currency: 'EUR', amount: '12.34' }, context('createTransaction')));
    expect(created.map(shape)).toEqual(['begin', 'select transaction_views for update', 'append', 'insert into transaction_views', 'commit']);
    const completed = await traced(() => completeTransaction(store, { id, doneBy: 'ops' }, context('completeTransaction')));
    expect(completed.map(shape)).toEqual(['begin', 'select transaction_views for update', 'append', 'update transaction_views', 'commit']);
  });

  it('reads a replayed aggregate once too: its lock serves the projection', async () => {
    const id = newId('acc');
    const opened = await traced(() =>
      openAccount(store, { id, owner: 'ada', currency: 'EUR', initialBalance: '10.00' }, context('openAccount')),
    );
    expect(opened.map(shape)).toEqual(['begin', 'select accounts for update', 'select events', 'append', 'insert into accounts', 'commit']);
    const credited = await traced(() => creditAccount(store, { id, amount: '5.00' }, context('creditAccount')));
    expect(credited.map(shape)).toEqual(['begin', 'select accounts for update', 'select events', 'append', 'update accounts', 'commit']);
  });
});
