import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { useApp } from '../../helpers/app.js';
import { execute } from '../../helpers/graphql.js';
import { waitFor } from '../../helpers/wait.js';
import { accountClient, uniqueKey, watch, type Json } from './operations.js';

const app = await useApp();
const client = accountClient(app.yoga);

const streamDoc = `query ($id: ID!) {
  stream(aggregateId: $id) {
    __typename type version metadata
    ... on AccountOpened { owner currency initialBalance }
    ... on AccountCredited { amount }
    ... on AccountDebited { amount }
    ... on AccountDebitDeclined { declined: amount balance }
    ... on AccountClosed { aggregateId }
  }
}`;

const readStream = async (id: string) => {
  const response = await execute(app.yoga, streamDoc, { id });
  expect(response.errors).toBeUndefined();
  return response.data!.stream as Json[];
};

const eventsWithKey = async (key: string): Promise<number> => {
  const rows = await app.services.db.execute<{ n: number }>(
    sql`select count(*)::int as n from es.events where metadata->>'idempotencyKey' = ${key}`,
  );
  return rows[0]!.n;
};

describe('openAccount', () => {
  it('opens an account with exact decimals and typed events', async () => {
    const result = await client.open({ owner: 'alice', currency: 'EUR', initialBalance: '100.50' });
    expect(result.__typename).toBe('OpenAccountSuccess');
    expect(result.account).toMatchObject({ owner: 'alice', currency: 'EUR', balance: '100.5', status: 'OPEN', version: 1 });
    expect(result.account.id).toMatch(/^acc_[0-9A-Za-z]{27}$/);
    expect(result.account.events.edges.map((edge: Json) => edge.node)).toEqual([{ type: 'AccountOpened', version: 1 }]);
    expect(result.account.openedAt).toBe(result.account.updatedAt);
    const [opened] = await readStream(result.account.id);
    expect(opened).toMatchObject({ __typename: 'AccountOpened', owner: 'alice', currency: 'EUR', initialBalance: '100.5' });
  });

  it('uses an id the client supplies, and answers ALREADY_EXISTS for it the second time', async () => {
    const id = newId('acc');
    expect(await client.open({ id, owner: 'bob', currency: 'USD', initialBalance: '0' })).toMatchObject({
      __typename: 'OpenAccountSuccess',
      account: { id, balance: '0' },
    });
    expect(await client.open({ id, owner: 'eve', currency: 'USD', initialBalance: '1' })).toMatchObject({
      __typename: 'AlreadyExistsError',
      code: 'ALREADY_EXISTS',
    });
    expect(await client.account(id)).toMatchObject({ owner: 'bob', version: 1 });
  });

  it.each([
    ['a negative initial balance', { initialBalance: '-1' }, 'initialBalance'],
    ['a lower-case currency', { currency: 'eur' }, 'currency'],
    ['a four-letter currency', { currency: 'EURO' }, 'currency'],
    ['an empty owner', { owner: '' }, 'owner'],
    ['an owner longer than 200 characters', { owner: 'o'.repeat(201) }, 'owner'],
    ['an id that is not an account id', { id: newId('mt') }, 'id'],
  ])('rejects %s with VALIDATION_FAILED and writes nothing', async (_, change, field) => {
    const id = newId('acc');
    const result = await client.open({ id, owner: 'alice', currency: 'EUR', initialBalance: '1', ...change });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field });
    expect(await client.account(id)).toBeNull();
    expect(await readStream(id)).toEqual([]);
  });
});

describe('creditAccount, debitAccount, closeAccount', () => {
  it('credits and debits exactly', async () => {
    const id = await client.opened('0.1');
    expect(await client.credit({ accountId: id, amount: '0.2' })).toMatchObject({
      __typename: 'CreditAccountSuccess',
      account: { balance: '0.3', version: 2 },
    });
    expect(await client.debit({ accountId: id, amount: '0.3' })).toMatchObject({
      __typename: 'DebitAccountSuccess',
      account: { balance: '0', version: 3 },
    });
  });

  it('keeps every digit of 18-digit amounts (no rounding at 20 significant digits)', async () => {
    const id = await client.opened('123456789012345.123456789');
    expect(await client.credit({ accountId: id, amount: '1' })).toMatchObject({ account: { balance: '123456789012346.123456789' } });
    expect(await client.credit({ accountId: id, amount: '0.000000000000000001' })).toMatchObject({
      account: { balance: '123456789012346.123456789000000001' },
    });
    expect(await client.debit({ accountId: id, amount: '123456789012346.123456789000000001' })).toMatchObject({ account: { balance: '0' } });
  });

  it('answers amounts in their shortest exact form, whatever scale they came in', async () => {
    const id = await client.opened('12.50');
    expect(await client.credit({ accountId: id, amount: '0.500' })).toMatchObject({ account: { balance: '13' } });
  });

  it('answers a debit above the balance with InsufficientFundsError and records AccountDebitDeclined', async () => {
    const id = await client.opened('10');
    const result = await client.debit({ accountId: id, amount: '10.01' });
    expect(result).toEqual({
      __typename: 'InsufficientFundsError',
      code: 'INSUFFICIENT_FUNDS',
      message: expect.any(String),
      accountId: id,
      requested: '10.01',
      balance: '10',
      version: 2,
    });
    expect(await client.account(id)).toMatchObject({ balance: '10', version: 2, status: 'OPEN' });
    const events = await readStream(id);
    expect(events.map((e) => [e.__typename, e.version])).toEqual([
      ['AccountOpened', 1],
      ['AccountDebitDeclined', 2],
    ]);
    expect(events[1]).toMatchObject({ declined: '10.01', balance: '10' });
  });

  it('answers a replayed declined debit with the same InsufficientFundsError and records nothing more', async () => {
    const id = await client.opened('5');
    const idempotencyKey = uniqueKey();
    const first = await client.debit({ accountId: id, amount: '6', idempotencyKey });
    const second = await client.debit({ accountId: id, amount: '6', idempotencyKey });
    expect(first).toMatchObject({ __typename: 'InsufficientFundsError', version: 2 });
    expect(second).toEqual(first);
    expect(await eventsWithKey(idempotencyKey)).toBe(1);
    expect((await readStream(id)).map((e) => e.type)).toEqual(['AccountOpened', 'AccountDebitDeclined']);
  });

  it('gives balance 150 at version 4 after Opened(100), Credited(100), Debited(50), DebitDeclined (eventsourcing-cqrs-go)', async () => {
    const id = await client.opened('100');
    await client.credit({ accountId: id, amount: '100' });
    await client.debit({ accountId: id, amount: '50' });
    expect((await client.debit({ accountId: id, amount: '1000' })).__typename).toBe('InsufficientFundsError');
    expect(await client.account(id)).toMatchObject({ balance: '150', version: 4 });
  });

  it.each([
    ['credit', () => client.credit],
    ['debit', () => client.debit],
  ])('rejects a non-positive amount to %s with VALIDATION_FAILED', async (_, command) => {
    const id = await client.opened('10');
    for (const amount of ['0', '-1', '0.000']) {
      expect(await command()({ accountId: id, amount })).toMatchObject({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        field: 'amount',
      });
    }
    expect(await client.account(id)).toMatchObject({ balance: '10', version: 1 });
  });

  it('answers ILLEGAL_STATE to every command on a closed account, closing twice too', async () => {
    const id = await client.opened('10');
    expect(await client.close({ accountId: id })).toMatchObject({
      __typename: 'CloseAccountSuccess',
      account: { status: 'CLOSED', version: 2, balance: '10' },
    });
    for (const result of [
      await client.credit({ accountId: id, amount: '1' }),
      await client.debit({ accountId: id, amount: '1' }),
      await client.close({ accountId: id }),
    ]) {
      expect(result).toMatchObject({ __typename: 'IllegalStateError', code: 'ILLEGAL_STATE' });
    }
    expect(await client.account(id)).toMatchObject({ status: 'CLOSED', version: 2, balance: '10' });
    expect((await readStream(id)).at(-1)).toMatchObject({ __typename: 'AccountClosed', aggregateId: id });
  });

  it.each([
    ['an unknown account id', () => newId('acc')],
    ['an id that is not an account id', () => newId('tx')],
    ['garbage', () => 'nope'],
  ])('answers NOT_FOUND for %s', async (_, makeId) => {
    const accountId = makeId();
    expect(await client.credit({ accountId, amount: '1' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await client.debit({ accountId, amount: '1' })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await client.close({ accountId })).toMatchObject({ __typename: 'NotFoundError' });
    expect(await readStream(accountId)).toEqual([]);
  });

  it('answers CONCURRENCY_CONFLICT when expectedVersion is not the current one, and succeeds when it is', async () => {
    const id = await client.opened('10');
    await client.credit({ accountId: id, amount: '1' });
    for (const expectedVersion of [0, 1, 3]) {
      expect(await client.debit({ accountId: id, amount: '1', expectedVersion })).toMatchObject({
        __typename: 'ConcurrencyConflictError',
        code: 'CONCURRENCY_CONFLICT',
        expectedVersion,
        actualVersion: 2,
      });
    }
    expect(await client.close({ accountId: id, expectedVersion: 1 })).toMatchObject({ __typename: 'ConcurrencyConflictError' });
    expect(await client.account(id)).toMatchObject({ balance: '11', version: 2, status: 'OPEN' });
    expect(await client.debit({ accountId: id, amount: '1', expectedVersion: 2 })).toMatchObject({
      __typename: 'DebitAccountSuccess',
      account: { balance: '10', version: 3 },
    });
  });

  it('answers a repeated credit with the first result and credits once', async () => {
    const id = await client.opened('10');
    const idempotencyKey = uniqueKey();
    const first = await client.credit({ accountId: id, amount: '5', idempotencyKey });
    const second = await client.credit({ accountId: id, amount: '5', idempotencyKey });
    expect(first).toMatchObject({ __typename: 'CreditAccountSuccess', account: { balance: '15', version: 2 } });
    expect(second).toEqual(first);
    expect(await client.account(id)).toMatchObject({ balance: '15', version: 2 });
    expect(await eventsWithKey(idempotencyKey)).toBe(1);
  });

  it('keeps every concurrent debit: the balance never goes negative', async () => {
    const id = await client.opened('10');
    const results = await Promise.all(Array.from({ length: 15 }, () => client.debit({ accountId: id, amount: '1' })));
    const types = results.map((result) => result.__typename);
    expect(types.filter((type) => type === 'DebitAccountSuccess')).toHaveLength(10);
    expect(types.filter((type) => type === 'InsufficientFundsError')).toHaveLength(5);
    expect(await client.account(id)).toMatchObject({ balance: '0', version: 16 });
  });
});

describe('account queries', () => {
  it('travels in time with accountVersion, rebuilt from events', async () => {
    const id = await client.opened('100');
    await client.credit({ accountId: id, amount: '100' });
    await client.debit({ accountId: id, amount: '50' });
    await client.debit({ accountId: id, amount: '1000' });
    await client.close({ accountId: id });
    const balances = [];
    for (let version = 1; version <= 5; version++) balances.push(await client.account(id, version));
    expect(balances.map((a) => [a!.version, a!.balance, a!.status])).toEqual([
      [1, '100', 'OPEN'],
      [2, '200', 'OPEN'],
      [3, '150', 'OPEN'],
      [4, '150', 'OPEN'],
      [5, '150', 'CLOSED'],
    ]);
    expect(await client.account(id, 5)).toEqual(await client.account(id));
    expect(await client.account(id, 6)).toBeNull();
    expect(await client.account(id, 0)).toBeNull();
    expect(await client.account(newId('acc'), 1)).toBeNull();
    expect(await client.account(newId('tx'), 1)).toBeNull();
  });

  it('resolves node(id) to an Account', async () => {
    const id = await client.opened('3', 'CHF', 'carol');
    const node = `query ($id: ID!) { node(id: $id) { __typename id ... on Account { owner currency balance } } }`;
    const found = await execute(app.yoga, node, { id });
    expect(found.data!.node).toEqual({ __typename: 'Account', id, owner: 'carol', currency: 'CHF', balance: '3' });
    expect((await execute(app.yoga, node, { id: newId('acc') })).data!.node).toBeNull();
  });

  it('pages through accounts in id order', async () => {
    const mine = new Set<string>();
    for (let i = 0; i < 5; i++) mine.add(await client.opened(String(i)));
    const doc = `query ($first: Int, $after: String) {
      accounts(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    const first = 200;
    for (let page = 0; page < 1000; page++) {
      const response = await execute(app.yoga, doc, { first, after });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.accounts as Json;
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...edges.map((edge: Json) => edge.node.id as string));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual(expect.arrayContaining([...mine]));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe('accountChanged', () => {
  it('pushes, field for field, the row the database holds at each version', async () => {
    // Pushes are folded in memory from the events with the projection's own evolve; the account
    // query reads the table. Read after each command, the table's row at each version is known.
    const fields = 'id owner currency balance status version openedAt updatedAt';
    const id = await client.opened('123456789012345.123456789');
    const watching = await watch(app.yoga, `subscription ($id: ID!) { accountChanged(id: $id, afterVersion: 0) { ${fields} } }`, { id }, 'accountChanged');
    const stored: Json[] = [];
    const read = async () => {
      const response = await execute(app.yoga, `query ($id: ID!) { account(id: $id) { ${fields} } }`, { id });
      stored.push(response.data!.account as Json);
    };
    try {
      await read();
      for (const amount of ['1', '0.000000000000000001', '0.5']) {
        await client.credit({ accountId: id, amount });
        await read();
      }
      await client.debit({ accountId: id, amount: '1000000000000000' }); // declined: a version, the same balance
      await read();
      await client.debit({ accountId: id, amount: '123456789012346.623456789000000001' });
      await read();
      await client.close({ accountId: id });
      await read();
      await watching.until((last) => last?.version === stored.at(-1)!.version, 'the last version to be pushed');
      expect(watching.pushed).toEqual(stored);
    } finally {
      await watching.close();
    }
  });

  it('pushes the account after each change, versions increasing', async () => {
    const id = await client.opened('10');
    const listeners = app.services.relay.listenerCount;
    const watching = await watch(
      app.yoga,
      `subscription ($id: ID!) { accountChanged(id: $id) { id balance status version } }`,
      { id },
      'accountChanged',
    );
    try {
      await waitFor(() => app.services.relay.listenerCount > listeners, 'the subscription to listen');
      await client.credit({ accountId: id, amount: '5' });
      await client.debit({ accountId: id, amount: '100' });
      await client.debit({ accountId: id, amount: '15' });
      await client.close({ accountId: id });
      await watching.until((last) => last?.version === 5, 'version 5 to be pushed');
      const versions = watching.pushed.map((account) => account.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(watching.pushed.every((account) => account.id === id)).toBe(true);
      expect(watching.pushed.at(-1)).toEqual({ id, balance: '0', status: 'CLOSED', version: 5 });
    } finally {
      await watching.close();
    }
  });
});
