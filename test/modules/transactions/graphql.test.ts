import { sql } from 'drizzle-orm';
import KSUID from 'ksuid';
import { describe, expect, it, vi } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../../src/eventstore/postgres-store.js';
import { createGraphQLServer } from '../../../src/server.js';
import { useApp } from '../../helpers/app.js';
import { execute } from '../../helpers/graphql.js';

const app = await useApp();

const create = `mutation ($input: CreateTransactionInput!) {
  createTransaction(input: $input) {
    __typename
    ... on CreateTransactionSuccess { transaction { id status currency amount doneBy version events { edges { node { type version } } } } }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}`;

const complete = `mutation ($input: CompleteTransactionInput!) {
  completeTransaction(input: $input) {
    __typename
    ... on CompleteTransactionSuccess { transaction { id status doneBy version } }
    ... on Error { code message }
    ... on ValidationError { field }
    ... on ConcurrencyConflictError { expectedVersion actualVersion }
  }
}`;

const transactionQuery = `query ($id: ID!) {
  transaction(id: $id) { id status currency amount doneBy version }
}`;

const streamQuery = `query ($id: ID!, $afterVersion: Int, $first: Int) {
  stream(aggregateId: $id, afterVersion: $afterVersion, first: $first) {
    __typename id position aggregateId aggregateType version type data metadata occurredAt
    ... on TransactionCreated { currency amount }
    ... on TransactionCompleted { doneBy }
  }
}`;

const transactionsQuery = `query ($first: Int, $after: String) {
  transactions(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const eventsQuery = `query ($after: String, $first: Int, $aggregateType: String, $types: [String!]) {
  events(after: $after, first: $first, aggregateType: $aggregateType, types: $types) {
    edges { cursor node { id position aggregateId aggregateType type version } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

type Json = Record<string, any>;

const createTransaction = async (input: Json, headers: Record<string, string> = {}) => {
  const response = await execute(app.yoga, create, { input }, headers);
  expect(response.errors).toBeUndefined();
  return response.data!.createTransaction as Json;
};

const completeTransaction = async (input: Json, headers: Record<string, string> = {}) => {
  const response = await execute(app.yoga, complete, { input }, headers);
  expect(response.errors).toBeUndefined();
  return response.data!.completeTransaction as Json;
};

/** Creates a transaction and returns its id, failing loudly when the command does not succeed. */
const createdId = async (input: Json = {}): Promise<string> => {
  const result = await createTransaction({ currency: 'EUR', amount: '10', ...input });
  expect(result.__typename).toBe('CreateTransactionSuccess');
  return result.transaction.id as string;
};

const readTransaction = async (id: string) => {
  const response = await execute(app.yoga, transactionQuery, { id });
  expect(response.errors).toBeUndefined();
  return response.data!.transaction as Json | null;
};

const readStream = async (id: string, args: { afterVersion?: number; first?: number } = {}) => {
  const response = await execute(app.yoga, streamQuery, { id, ...args });
  expect(response.errors).toBeUndefined();
  return response.data!.stream as Json[];
};

const eventsWithKey = async (key: string): Promise<number> => {
  const rows = await app.services.db.execute<{ n: number }>(
    sql`select count(*)::int as n from es.events where metadata->>'idempotencyKey' = ${key}`,
  );
  return rows[0]!.n;
};

const uniqueKey = () => `key-${KSUID.randomSync().string}`;

describe('createTransaction and completeTransaction', () => {
  it('creates and completes a transaction', async () => {
    const created = await execute(app.yoga, create, { input: { currency: 'EUR', amount: '12.50' } });
    expect(created.errors).toBeUndefined();
    const transaction = created.data!.createTransaction.transaction;
    expect(transaction).toMatchObject({ status: 'PROCESSING', currency: 'EUR', amount: '12.5', doneBy: null, version: 1 });
    expect(transaction.id).toMatch(/^tx_[0-9A-Za-z]{27}$/);
    expect(transaction.events.edges.map((edge: Json) => edge.node)).toEqual([{ type: 'TransactionCreated', version: 1 }]);

    const completed = await execute(app.yoga, complete, { input: { id: transaction.id, doneBy: 'alice' } });
    expect(completed.data!.completeTransaction).toEqual({
      __typename: 'CompleteTransactionSuccess',
      transaction: { id: transaction.id, status: 'COMPLETED', doneBy: 'alice', version: 2 },
    });
    expect(await readTransaction(transaction.id)).toEqual({
      id: transaction.id,
      status: 'COMPLETED',
      currency: 'EUR',
      amount: '12.5',
      doneBy: 'alice',
      version: 2,
    });
  });

  it('uses an id the client supplies', async () => {
    const id = newId('tx');
    const result = await createTransaction({ id, currency: 'USD', amount: '3.25' });
    expect(result).toMatchObject({ __typename: 'CreateTransactionSuccess', transaction: { id, currency: 'USD', amount: '3.25' } });
    expect(await readTransaction(id)).toMatchObject({ id, status: 'PROCESSING', version: 1 });
  });

  it.each([
    ['not a KSUID', 'tx_nope'],
    ['another type', newId('acc')],
    ['no prefix', KSUID.randomSync().string],
    ['empty', ''],
  ])('rejects a client id that is %s with VALIDATION_FAILED on `id`', async (_, id) => {
    const result = await createTransaction({ id, currency: 'EUR', amount: '1' });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'id' });
    expect(await readStream(id)).toEqual([]);
    expect(await readTransaction(id)).toBeNull();
  });

  it.each([
    ['an empty currency', { currency: '' }, 'currency'],
    ['a blank currency', { currency: '   ' }, 'currency'],
    ['a lower-case currency', { currency: 'eur' }, 'currency'],
    ['a four-letter currency', { currency: 'EURO' }, 'currency'],
    ['a zero amount', { amount: '0' }, 'amount'],
    ['a zero amount with decimals', { amount: '0.000' }, 'amount'],
    ['a negative amount', { amount: '-5.00' }, 'amount'],
  ])('rejects %s with VALIDATION_FAILED and writes nothing', async (_, change, field) => {
    const id = newId('tx');
    const result = await createTransaction({ id, currency: 'EUR', amount: '1', ...change });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field });
    expect(result.message).toEqual(expect.any(String));
    expect(await readStream(id)).toEqual([]);
    expect(await readTransaction(id)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['blank', '  '],
    ['longer than 200 characters', 'x'.repeat(201)],
  ])('rejects a doneBy that is %s with VALIDATION_FAILED and leaves the transaction as it was', async (_, doneBy) => {
    const id = await createdId();
    const before = await readTransaction(id);
    const result = await completeTransaction({ id, doneBy });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'doneBy' });
    expect(await readTransaction(id)).toEqual(before);
    expect((await readStream(id)).map((e) => e.type)).toEqual(['TransactionCreated']);
  });

  it('answers ALREADY_EXISTS when the same id is created twice, keeping the first', async () => {
    const id = await createdId({ id: newId('tx'), amount: '7' });
    const result = await createTransaction({ id, currency: 'GBP', amount: '8' });
    expect(result).toMatchObject({ __typename: 'AlreadyExistsError', code: 'ALREADY_EXISTS' });
    expect(await readTransaction(id)).toMatchObject({ currency: 'EUR', amount: '7', version: 1 });
    expect(await readStream(id)).toHaveLength(1);
  });

  it.each([
    ['an unknown transaction id', () => newId('tx')],
    ['an id that is not a transaction id', () => 'nope'],
  ])('answers NOT_FOUND when completing %s and writes nothing', async (_, makeId) => {
    const id = makeId();
    const result = await completeTransaction({ id, doneBy: 'alice' });
    expect(result).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await readStream(id)).toEqual([]);
    expect(await readTransaction(id)).toBeNull();
  });

  it('answers ILLEGAL_STATE when completing twice, keeping the first completion', async () => {
    const id = await createdId();
    expect(await completeTransaction({ id, doneBy: 'alice' })).toMatchObject({ __typename: 'CompleteTransactionSuccess' });
    const result = await completeTransaction({ id, doneBy: 'bob' });
    expect(result).toMatchObject({ __typename: 'IllegalStateError', code: 'ILLEGAL_STATE' });
    expect(await readTransaction(id)).toMatchObject({ status: 'COMPLETED', doneBy: 'alice', version: 2 });
    expect((await readStream(id)).map((e) => e.type)).toEqual(['TransactionCreated', 'TransactionCompleted']);
  });

  it.each([0, 2, 7])(
    'answers CONCURRENCY_CONFLICT when expectedVersion is %i but the transaction is at 1',
    async (expectedVersion) => {
      const id = await createdId();
      const before = await readTransaction(id);
      const result = await completeTransaction({ id, doneBy: 'alice', expectedVersion });
      expect(result).toMatchObject({
        __typename: 'ConcurrencyConflictError',
        code: 'CONCURRENCY_CONFLICT',
        expectedVersion,
        actualVersion: 1,
      });
      expect(await readTransaction(id)).toEqual(before);
      expect(await readStream(id)).toHaveLength(1);
    },
  );

  it('completes when expectedVersion matches', async () => {
    const id = await createdId();
    const result = await completeTransaction({ id, doneBy: 'alice', expectedVersion: 1 });
    expect(result).toMatchObject({ __typename: 'CompleteTransactionSuccess', transaction: { version: 2 } });
  });
});

describe('the Decimal scalar', () => {
  it('answers in the shortest exact form', async () => {
    const id = await createdId({ id: newId('tx'), amount: '1.110000' });
    expect((await readTransaction(id))!.amount).toBe('1.11');
    expect((await readStream(id))[0]).toMatchObject({ amount: '1.11', data: { amount: '1.11' } });
  });

  it('round-trips 18 integer and 18 fraction digits exactly', async () => {
    const amount = '123456789012345678.987654321098765432';
    const result = await createTransaction({ currency: 'EUR', amount });
    expect(result.transaction.amount).toBe(amount);
    expect((await readTransaction(result.transaction.id))!.amount).toBe(amount);
    expect((await readStream(result.transaction.id))[0]!.amount).toBe(amount);
  });

  it('accepts a safe integer as a JSON number', async () => {
    const result = await createTransaction({ currency: 'EUR', amount: 42 });
    expect(result.transaction.amount).toBe('42');
  });

  it.each([
    ['a float variable', 1.5],
    ['19 integer digits', '1234567890123456789'],
    ['19 fraction digits', '0.1234567890123456789'],
    ['an exponent', '1e3'],
    ['text', 'ten'],
  ])('rejects %s with a GraphQL error, not a union member', async (_, amount) => {
    const id = newId('tx');
    const response = await execute(app.yoga, create, { input: { id, currency: 'EUR', amount } });
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.extensions?.code).toBe('VALIDATION_FAILED');
    expect(await readTransaction(id)).toBeNull();
  });

  it('rejects a float literal in the document', async () => {
    const id = newId('tx');
    const response = await execute(
      app.yoga,
      `mutation { createTransaction(input: { id: "${id}", currency: "EUR", amount: 1.5 }) { __typename } }`,
    );
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(await readTransaction(id)).toBeNull();
  });
});

describe('idempotencyKey', () => {
  it.each([
    ['an id it generates', {}],
    ['an id the client supplies', { id: newId('tx') }],
  ])('answers a repeated command with the first result and appends nothing (%s)', async (_, extra) => {
    const idempotencyKey = uniqueKey();
    const input = { currency: 'EUR', amount: '5.5', idempotencyKey, ...extra };
    const first = await createTransaction(input);
    const second = await createTransaction(input);
    expect(first.__typename).toBe('CreateTransactionSuccess');
    expect(second).toEqual(first);
    const events = await readStream(first.transaction.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.idempotencyKey).toBe(idempotencyKey);
    expect(await eventsWithKey(idempotencyKey)).toBe(1);
  });

  it('rejects a key reused for a different input with VALIDATION_FAILED on `idempotencyKey`', async () => {
    const idempotencyKey = uniqueKey();
    const first = await createTransaction({ currency: 'EUR', amount: '5.5', idempotencyKey });
    const otherId = newId('tx');
    const second = await createTransaction({ id: otherId, currency: 'EUR', amount: '6', idempotencyKey });
    expect(second).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'idempotencyKey' });
    expect(await readTransaction(otherId)).toBeNull();
    expect(await readTransaction(first.transaction.id)).toMatchObject({ amount: '5.5', version: 1 });
    expect(await eventsWithKey(idempotencyKey)).toBe(1);
  });

  it('rejects a key reused for another command with VALIDATION_FAILED on `idempotencyKey`', async () => {
    const idempotencyKey = uniqueKey();
    const id = await createdId({ idempotencyKey });
    const result = await completeTransaction({ id, doneBy: 'alice', idempotencyKey });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'idempotencyKey' });
    expect(await readTransaction(id)).toMatchObject({ status: 'PROCESSING', version: 1 });
  });

  it.each([
    ['an id it generates', () => ({})],
    ['an id the client supplies', () => ({ id: newId('tx') })],
  ])('lets concurrent identical commands create one transaction (%s)', async (_, extra) => {
    const idempotencyKey = uniqueKey();
    const input = { currency: 'EUR', amount: '9.99', idempotencyKey, ...extra() };
    const results = await Promise.all(Array.from({ length: 5 }, () => createTransaction(input)));
    const ids = new Set(results.map((result) => result.transaction?.id));
    expect(results.map((result) => result.__typename)).toEqual(Array(5).fill('CreateTransactionSuccess'));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect((await readStream(id)).map((e) => e.type)).toEqual(['TransactionCreated']);
    expect(await eventsWithKey(idempotencyKey)).toBe(1);
  });

  it('completes once when the same completion is retried', async () => {
    const id = await createdId();
    const idempotencyKey = uniqueKey();
    const first = await completeTransaction({ id, doneBy: 'alice', idempotencyKey });
    const second = await completeTransaction({ id, doneBy: 'alice', idempotencyKey });
    expect(first).toMatchObject({ __typename: 'CompleteTransactionSuccess', transaction: { version: 2 } });
    expect(second).toEqual(first);
    expect(await readStream(id)).toHaveLength(2);
  });
});

describe('transaction queries', () => {
  it('reads one transaction by id, and null for an unknown id', async () => {
    const id = await createdId({ currency: 'CHF', amount: '0.5' });
    expect(await readTransaction(id)).toEqual({
      id,
      status: 'PROCESSING',
      currency: 'CHF',
      amount: '0.5',
      doneBy: null,
      version: 1,
    });
    expect(await readTransaction(newId('tx'))).toBeNull();
  });

  it('resolves node(id) to a Transaction, and null for unknown ids and prefixes', async () => {
    const id = await createdId({ currency: 'JPY', amount: '100' });
    const node = `query ($id: ID!) { node(id: $id) { __typename id ... on Transaction { currency amount } } }`;
    const found = await execute(app.yoga, node, { id });
    expect(found.errors).toBeUndefined();
    expect(found.data!.node).toEqual({ __typename: 'Transaction', id, currency: 'JPY', amount: '100' });
    for (const unknown of [newId('tx'), newId('zz'), 'nope', '']) {
      const missing = await execute(app.yoga, node, { id: unknown });
      expect(missing.errors).toBeUndefined();
      expect(missing.data!.node).toBeNull();
    }
  });

  it('pages through transactions in id order with Relay page info', async () => {
    const mine = new Set<string>();
    for (let i = 0; i < 5; i++) mine.add(await createdId({ amount: String(i + 1) }));

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; [...mine].some((id) => !seen.includes(id)); page++) {
      expect(page, 'paged through the whole table without seeing every created transaction').toBeLessThan(10_000);
      const response = await execute(app.yoga, transactionsQuery, { first: 2, after });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.transactions as Json;
      expect(edges.length).toBeLessThanOrEqual(2);
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      expect(pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      seen.push(...edges.map((edge: Json) => edge.node.id as string));
      if (!pageInfo.hasNextPage) break;
      expect(edges).toHaveLength(2);
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual(expect.arrayContaining([...mine]));
    expect(new Set(seen).size, 'no transaction appears twice').toBe(seen.length);
    expect(seen, 'ascending id order').toEqual([...seen].sort(byteOrder));
    expect(seen.filter((id) => mine.has(id))).toEqual([...mine].sort(byteOrder));
  });

  it('orders ids that differ only in letter case by KSUID (byte) order', async () => {
    // Base62 puts `B` before `a`; a case-insensitive collation would not.
    const body = KSUID.randomSync().string.slice(0, 26);
    const upper = `tx_${body}B`;
    const lower = `tx_${body}a`;
    await createdId({ id: lower });
    await createdId({ id: upper });
    const seen: string[] = [];
    let after: string | null = null;
    while (!seen.includes(upper) || !seen.includes(lower)) {
      const response = await execute(app.yoga, transactionsQuery, { first: 500, after });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.transactions as Json;
      seen.push(...edges.map((edge: Json) => edge.node.id as string));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen.filter((id) => id === upper || id === lower)).toEqual([upper, lower]);
  });

  it.each([501, -1])('rejects first: %i with VALIDATION_FAILED', async (first) => {
    const response = await execute(app.yoga, transactionsQuery, { first });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['garbage', 'nope'],
    ['a cursor of another list', Buffer.from('c1:1:1').toString('base64url')],
  ])('rejects an `after` that is %s with VALIDATION_FAILED', async (_, after) => {
    const response = await execute(app.yoga, transactionsQuery, { first: 1, after });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('stream(aggregateId)', () => {
  it('returns the typed events strictly after afterVersion, oldest first', async () => {
    const id = await createdId({ currency: 'SEK', amount: '12.345' });
    await completeTransaction({ id, doneBy: 'carol' });

    const events = await readStream(id);
    expect(events.map((e) => [e.__typename, e.type, e.version])).toEqual([
      ['TransactionCreated', 'TransactionCreated', 1],
      ['TransactionCompleted', 'TransactionCompleted', 2],
    ]);
    const [createdEvent, completedEvent] = events as [Json, Json];
    expect(createdEvent).toMatchObject({
      aggregateId: id,
      aggregateType: 'Transaction',
      currency: 'SEK',
      amount: '12.345',
      data: { currency: 'SEK', amount: '12.345' },
    });
    expect(completedEvent).toMatchObject({ aggregateId: id, doneBy: 'carol', data: { doneBy: 'carol' } });
    for (const event of events) {
      expect(event.id).toMatch(/^evt_[0-9A-Za-z]{27}$/);
      expect(event.position).toEqual(expect.any(String));
      expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
      expect(event.metadata.correlationId).toEqual(expect.any(String));
      expect(event.metadata.causationId).toEqual(expect.any(String));
    }
    expect(createdEvent.position).not.toBe(completedEvent.position);

    expect((await readStream(id, { afterVersion: 1 })).map((e) => e.version)).toEqual([2]);
    expect(await readStream(id, { afterVersion: 2 })).toEqual([]);
    expect((await readStream(id, { first: 1 })).map((e) => e.version)).toEqual([1]);
    expect(await readStream(newId('tx'))).toEqual([]);
  });

  it('uses the x-correlation-id header as the events’ correlationId', async () => {
    const correlationId = `corr-${KSUID.randomSync().string}`;
    const headers = { 'x-correlation-id': correlationId };
    const result = await createTransaction({ currency: 'EUR', amount: '1' }, headers);
    const id = result.transaction.id as string;
    await completeTransaction({ id, doneBy: 'dave' }, headers);
    const events = await readStream(id);
    expect(events.map((e) => e.metadata.correlationId)).toEqual([correlationId, correlationId]);
    for (const event of events) expect(event.metadata.causationId).not.toBe(correlationId);
  });

  it('ignores a correlation id longer than 200 characters', async () => {
    const tooLong = 'c'.repeat(201);
    const id = (await createTransaction({ currency: 'EUR', amount: '1' }, { 'x-correlation-id': tooLong })).transaction.id;
    const [event] = await readStream(id);
    expect(event!.metadata.correlationId).toEqual(expect.any(String));
    expect(event!.metadata.correlationId).not.toBe(tooLong);
  });

  it('rejects first above 500 with VALIDATION_FAILED', async () => {
    const response = await execute(app.yoga, streamQuery, { id: newId('tx'), first: 501 });
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('events(after, first, aggregateType, types)', () => {
  const types = ['TransactionCreated', 'TransactionCompleted'];

  /** Reads the filtered log after `after` in pages of `first` until the end of what is visible. */
  const readLog = async (after: string | null, first: number) => {
    const nodes: Json[] = [];
    let cursor = after;
    for (;;) {
      const response = await execute(app.yoga, eventsQuery, { after: cursor, first, aggregateType: 'Transaction', types });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.events as Json;
      expect(edges.length).toBeLessThanOrEqual(first);
      expect(pageInfo.hasPreviousPage).toBe(cursor !== null);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      for (const edge of edges) expect(edge.cursor).toBe(edge.node.position);
      nodes.push(...edges.map((edge: Json) => edge.node));
      if (!pageInfo.hasNextPage) return nodes;
      cursor = pageInfo.endCursor;
    }
  };

  it('pages through the filtered global log in commit order', async () => {
    const first = await createdId();
    const [firstCreated] = await readStream(first);
    const second = await createdId();
    const third = await createdId();
    await completeTransaction({ id: second, doneBy: 'erin' });
    const mine = new Set([first, second, third]);

    await vi.waitFor(
      async () => {
        const log = await readLog(firstCreated!.position, 2);
        for (const event of log) {
          expect(event.aggregateType).toBe('Transaction');
          expect(types).toContain(event.type);
        }
        expect(new Set(log.map((event) => event.id)).size, 'no event appears twice').toBe(log.length);
        expect(log.filter((event) => mine.has(event.aggregateId)).map((e) => [e.aggregateId, e.type])).toEqual([
          [second, 'TransactionCreated'],
          [third, 'TransactionCreated'],
          [second, 'TransactionCompleted'],
        ]);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('filters by event type', async () => {
    const id = await createdId();
    const [createdEvent] = await readStream(id);
    await completeTransaction({ id, doneBy: 'frank' });
    await vi.waitFor(
      async () => {
        const response = await execute(app.yoga, eventsQuery, {
          after: createdEvent!.position,
          first: 500,
          types: ['TransactionCompleted'],
        });
        expect(response.errors).toBeUndefined();
        const nodes = (response.data!.events as Json).edges.map((edge: Json) => edge.node);
        expect(nodes.every((node: Json) => node.type === 'TransactionCompleted')).toBe(true);
        expect(nodes.filter((node: Json) => node.aggregateId === id).map((node: Json) => node.version)).toEqual([2]);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it.each([
    ['a malformed cursor', { after: 'nope' }],
    ['a cursor of another list', { after: Buffer.from(`id:${newId('tx')}`).toString('base64url') }],
    ['first above 500', { first: 501 }],
  ])('rejects %s with VALIDATION_FAILED', async (_, args) => {
    const response = await execute(app.yoga, eventsQuery, args);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('unexpected failures', () => {
  class FailingStore extends PostgresEventStore {
    override async transaction<T>(): Promise<T> {
      throw new Error('secret sql detail');
    }

    override async readStream(): Promise<never> {
      throw new Error('secret sql detail');
    }
  }
  const failing = new FailingStore(app.services.db);
  // Queries read through the read path: it hands out the failing store too.
  const read = { ...app.services.read, reader: async () => ({ db: app.services.db, store: failing, replica: false }) };
  const yoga = createGraphQLServer({ ...app.services, store: failing, read });

  it('masks an internal error of a mutation', async () => {
    const id = newId('tx');
    const response = await execute(yoga, create, { input: { id, currency: 'EUR', amount: '1' } });
    expect(response.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(response)).not.toMatch(/secret|stack/i);
    expect(await readTransaction(id)).toBeNull();
  });

  it('masks an internal error even when NODE_ENV is development', async () => {
    vi.stubEnv('NODE_ENV', 'development');
    try {
      const response = await execute(yoga, create, { input: { currency: 'EUR', amount: '1' } });
      expect(response.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(response)).not.toMatch(/secret|stack/i);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('masks an internal error of a query', async () => {
    const id = await createdId();
    const response = await execute(yoga, `query ($id: ID!) { transaction(id: $id) { id events { edges { node { id } } } } }`, { id });
    expect(response.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(response)).not.toMatch(/secret|stack/i);
  });
});

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
