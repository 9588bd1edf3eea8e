import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { compareLogPositions, decodeCursor, encodeCursor } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventReader } from '../../src/eventstore/postgres-store.js';
import { createHttpServer, type HttpServer } from '../../src/server.js';
import { useApp } from '../helpers/app.js';
import { execute, subscribeSse, type GraphQLResponse } from '../helpers/graphql.js';
import { waitFor, within } from '../helpers/wait.js';

const app = await useApp({ relayPollMs: 100 });
const relay = app.services.relay;

type EventPayload = {
  __typename: string;
  id: string;
  position: string;
  aggregateId: string;
  aggregateType: string;
  version: number;
  type: string;
  currency?: string;
  amount?: string;
  doneBy?: string;
};

type LoggedEvent = { id: string; position: string; aggregateId: string; version: number; type: string };
type LogPage = { edges: { node: LoggedEvent }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const eventsSubscription = `subscription ($id: ID, $after: String, $fromStart: Boolean, $aggregateType: String, $types: [String!]) {
  events(aggregateId: $id, after: $after, fromStart: $fromStart, aggregateType: $aggregateType, types: $types) {
    __typename id position aggregateId aggregateType version type
    ... on TransactionCreated { currency amount }
    ... on TransactionCompleted { doneBy }
  }
}`;

const transactionChangedSubscription = `subscription ($id: ID!) {
  transactionChanged(id: $id) { id status currency amount doneBy version }
}`;

const createMutation = `mutation ($input: CreateTransactionInput!) {
  createTransaction(input: $input) {
    __typename
    ... on CreateTransactionSuccess { transaction { id version } }
    ... on Error { code message }
  }
}`;

const completeMutation = `mutation ($input: CompleteTransactionInput!) {
  completeTransaction(input: $input) {
    __typename
    ... on CompleteTransactionSuccess { transaction { id version } }
    ... on Error { code message }
  }
}`;

const streamQuery = `query ($id: ID!) { stream(aggregateId: $id) { id position aggregateId version type } }`;

const eventsQuery = `query ($after: String, $types: [String!]) {
  events(after: $after, first: 500, aggregateType: "Transaction", types: $types) {
    edges { node { id position aggregateId version type } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Run = (query: string, variables: Record<string, unknown>) => Promise<GraphQLResponse>;

const inProcess: Run = (query, variables) => execute(app.yoga, query, variables);

/** Creates a transaction under a client-supplied id. */
const createTransaction = async (id = newId('tx'), run: Run = inProcess, amount = '10.25'): Promise<string> => {
  const result = await run(createMutation, { input: { id, currency: 'EUR', amount } });
  expect(result.data?.createTransaction).toEqual({ __typename: 'CreateTransactionSuccess', transaction: { id, version: 1 } });
  return id;
};

const completeTransaction = async (id: string, doneBy = 'alice', run: Run = inProcess): Promise<void> => {
  const result = await run(completeMutation, { input: { id, doneBy } });
  expect(result.data?.completeTransaction).toEqual({
    __typename: 'CompleteTransactionSuccess',
    transaction: { id, version: 2 },
  });
};

const streamOf = async (id: string): Promise<LoggedEvent[]> => {
  const result = await execute(app.yoga, streamQuery, { id });
  expect(result.errors).toBeUndefined();
  return result.data!.stream;
};

/** Every Transaction event strictly after `after`, in the `events` query's (commit-safe) order. */
const logAfter = async (after: string, types?: string[]): Promise<LoggedEvent[]> => {
  const events: LoggedEvent[] = [];
  let cursor: string | null = after;
  for (;;) {
    const result: GraphQLResponse<{ events: LogPage }> = await execute(app.yoga, eventsQuery, {
      after: cursor,
      ...(types && { types }),
    });
    expect(result.errors).toBeUndefined();
    const page = result.data!.events;
    events.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) return events;
    cursor = page.pageInfo.endCursor;
  }
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many subscriptions the relay feeds. */
const relayListeners = (): number => relay.listenerCount;

/** What a subscription has received so far, whatever the transport. */
type Received = {
  readonly payloads: GraphQLResponse[];
  /** The `events` field of every payload so far; fails on a payload with errors. */
  events(): EventPayload[];
  /** Resolves once `n` payloads have arrived. */
  count(n: number): Promise<void>;
};

const received = (payloads: GraphQLResponse[]): Received => ({
  payloads,
  events: () =>
    payloads.map((payload) => {
      expect(payload.errors).toBeUndefined();
      return payload.data!.events as EventPayload;
    }),
  count: async (n) => void (await waitFor(() => payloads.length >= n, `${n} payloads`)),
});

/** Opens an SSE subscription, reads it in the background and closes it when the test ends. */
const openSse = async (
  query: string,
  variables: Record<string, unknown>,
): Promise<Received & { close(): Promise<void> }> => {
  const subscription = await subscribeSse(app.yoga, query, variables);
  const payloads: GraphQLResponse[] = [];
  const reading = (async () => {
    try {
      for (;;) payloads.push(...(await subscription.take(1)));
    } catch {
      // the stream ended or was closed
    }
  })();
  const close = async () => {
    await subscription.close();
    await reading;
  };
  onTestFinished(close);
  return { ...received(payloads), close };
};

describe('events subscription over SSE', () => {
  it('delivers the typed events of an aggregate, live, in commit order', async () => {
    const id = newId('tx');
    const subscription = await openSse(eventsSubscription, { id });

    await createTransaction(id, inProcess, '12.50');
    await completeTransaction(id, 'bob');
    await subscription.count(2);
    const events = subscription.events();

    expect(events).toMatchObject([
      {
        __typename: 'TransactionCreated',
        aggregateId: id,
        aggregateType: 'Transaction',
        type: 'TransactionCreated',
        version: 1,
        currency: 'EUR',
        amount: '12.5',
      },
      {
        __typename: 'TransactionCompleted',
        aggregateId: id,
        aggregateType: 'Transaction',
        type: 'TransactionCompleted',
        version: 2,
        doneBy: 'bob',
      },
    ]);
    expect(events.map((event) => event.id)).toEqual((await streamOf(id)).map((event) => event.id));
    // In the global log the second event lies after the first.
    const later = await logAfter(events[0]!.position);
    expect(later.map((event) => event.position)).toContain(events[1]!.position);
    expect(later.map((event) => event.position)).not.toContain(events[0]!.position);
  });

  it('starts when the client subscribes, not when it first reads', async () => {
    const id = newId('tx');
    const subscription = await subscribeSse(app.yoga, eventsSubscription, { id });
    onTestFinished(() => subscription.close());

    await createTransaction(id);
    await completeTransaction(id);
    const events = received(await within(subscription.take(2), 'two events')).events();

    expect(events.map((event) => [event.aggregateId, event.type, event.version])).toEqual([
      [id, 'TransactionCreated', 1],
      [id, 'TransactionCompleted', 2],
    ]);
  });

  it('resumes after a position: the rest from the table, then live', async () => {
    const earlier = await createTransaction();
    const id = await createTransaction();
    const [cursorEvent] = await streamOf(earlier);
    const [created] = await streamOf(id);

    const subscription = await openSse(eventsSubscription, { id, after: cursorEvent!.position });
    await subscription.count(1);
    expect(subscription.events()).toMatchObject([{ id: created!.id, type: 'TransactionCreated', version: 1 }]);

    await completeTransaction(id);
    await subscription.count(2);
    const events = subscription.events();
    // A duplicate at the hand-over would sit between these two.
    expect(events.map((event) => [event.type, event.version])).toEqual([
      ['TransactionCreated', 1],
      ['TransactionCompleted', 2],
    ]);
    expect(events.map((event) => event.id)).toEqual((await streamOf(id)).map((event) => event.id));
  });

  /**
   * Selections of an event that read its payload (a typed payload field, `data`, `metadata`, inline
   * or behind a fragment), and what each gives for a TransactionCreated of 10.25 EUR.
   */
  const payloadSelections = [
    { selection: 'id ... on TransactionCreated { amount }', fragments: '', expected: { amount: '10.25' } },
    { selection: 'id ...F', fragments: 'fragment F on Event { ... on TransactionCreated { currency } }', expected: { currency: 'EUR' } },
    { selection: 'id data', fragments: '', expected: { data: { amount: '10.25' } } },
    { selection: 'id metadata', fragments: '', expected: { metadata: { causationId: expect.any(String) } } },
  ];

  it("reads the table without events' payloads when the selection needs none of them, and with them otherwise", async () => {
    const earlier = await createTransaction();
    const id = await createTransaction(newId('tx'), inProcess, '10.25');
    const [cursorEvent] = await streamOf(earlier);
    const [created] = await streamOf(id);
    // A relay that has not read the transaction yet would hand it over live, with no table read.
    await waitFor(() => compareLogPositions(relay.cursor, decodeCursor(created!.position)) >= 0, 'the relay to pass the transaction');
    const readLog = vi.spyOn(PostgresEventReader.prototype, 'readLog');
    onTestFinished(() => readLog.mockRestore());
    const reads = () => readLog.mock.calls.map(([options]) => options).filter((options) => options.aggregateId === id);
    const catchUp = async (selection: string, fragments = '') => {
      readLog.mockClear();
      const subscription = await openSse(
        `subscription ($id: ID, $after: String) { events(aggregateId: $id, after: $after) { ${selection} } } ${fragments}`,
        { id, after: cursorEvent!.position },
      );
      await subscription.count(1);
      await subscription.close();
      expect(reads().length).toBeGreaterThan(0);
      return { payload: subscription.events()[0], withoutPayload: reads().every((options) => options.withoutPayload === true) };
    };

    // Only the columns: no payload read.
    expect(await catchUp('__typename id position aggregateId aggregateType version type occurredAt recordedAt')).toMatchObject({
      payload: { __typename: 'TransactionCreated', aggregateId: id, version: 1, type: 'TransactionCreated' },
      withoutPayload: true,
    });
    for (const { selection, fragments, expected } of payloadSelections) {
      expect(await catchUp(selection, fragments)).toMatchObject({ payload: expected, withoutPayload: false });
    }
  });

  it("the events query reads the log without events' payloads when its nodes select none of them, and with them otherwise", async () => {
    const earlier = await createTransaction();
    const id = await createTransaction(newId('tx'), inProcess, '10.25');
    const [cursorEvent] = await streamOf(earlier);
    const readLog = vi.spyOn(PostgresEventReader.prototype, 'readLog');
    onTestFinished(() => readLog.mockRestore());
    const page = async (selection: string, fragments = '') => {
      readLog.mockClear();
      const response = await execute<{ events: { edges: { node: Record<string, unknown> }[] } }>(
        app.yoga,
        `query ($after: String) { events(after: $after, first: 1, types: ["TransactionCreated"]) { ${selection} } } ${fragments}`,
        { after: cursorEvent!.position },
      );
      expect(response.errors).toBeUndefined();
      expect(readLog).toHaveBeenCalledTimes(1);
      return { node: response.data?.events.edges[0]?.node, withoutPayload: readLog.mock.calls[0]![0].withoutPayload === true };
    };

    // Only columns under `node`, however reached; pageInfo and cursors read no payload either.
    expect(await page('edges { cursor node { __typename id aggregateId version type } } pageInfo { hasNextPage endCursor }')).toEqual({
      node: { __typename: 'TransactionCreated', id: expect.any(String), aggregateId: id, version: 1, type: 'TransactionCreated' },
      withoutPayload: true,
    });
    expect(await page('...Page', 'fragment Page on EventConnection { edges { ... on EventEdge { n: node { position } } } }')).toMatchObject({
      withoutPayload: true,
    });
    for (const { selection, fragments, expected } of payloadSelections) {
      expect(await page(`edges { node { ${selection} } }`, fragments)).toMatchObject({ node: expected, withoutPayload: false });
    }
  });

  it('resumes while commits land during the catch-up: no gap, no duplicate, log order', async () => {
    const x = await createTransaction();
    await completeTransaction(x);
    // A backlog for the catch-up to work through.
    const backlog = await Promise.all(Array.from({ length: 30 }, () => createTransaction()));
    const last = await createTransaction();
    const [xCreated, xCompleted] = await streamOf(x);

    const subscription = await subscribeSse(app.yoga, eventsSubscription, {
      aggregateType: 'Transaction',
      after: xCreated!.position,
    });
    onTestFinished(() => subscription.close());
    // The first event comes from the table. Then, with no one reading, commits land: the stream
    // reads ahead some way, so they meet the subscription in or just after its catch-up.
    const payloads = await within(subscription.take(1), 'the first event');
    const racers = (
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const ids: string[] = [];
          for (let i = 0; i < 5; i++) ids.push(await createTransaction());
          return ids;
        }),
      )
    ).flat();
    await completeTransaction(last);
    await relay.settle();

    const isEnd = (payload: GraphQLResponse) => payload.data?.events?.aggregateId === last && payload.data.events.version === 2;
    while (!payloads.some(isEnd)) payloads.push(...(await within(subscription.take(1), 'the last event')));
    const mine = new Set([x, ...backlog, last, ...racers]);
    const events = received(payloads).events().filter((event) => mine.has(event.aggregateId));

    const expected = (await logAfter(xCreated!.position)).filter((event) => mine.has(event.aggregateId));
    expect(expected.at(-1)).toMatchObject({ aggregateId: last, version: 2 });
    expect(events.map((event) => event.id)).toEqual(expected.map((event) => event.id));
    expect(events[0]!.id).toBe(xCompleted!.id);
    expect(events).toHaveLength(1 + backlog.length + 1 + racers.length + 1);
  });

  it('filters by event type', async () => {
    const id = newId('tx');
    const onlyMine = await openSse(eventsSubscription, { id, types: ['TransactionCompleted'] });
    const everyone = await openSse(eventsSubscription, { types: ['TransactionCompleted'] });

    await createTransaction(id);
    await completeTransaction(id, 'carol');

    await onlyMine.count(1);
    expect(onlyMine.events()).toMatchObject([{ aggregateId: id, type: 'TransactionCompleted', version: 2, doneBy: 'carol' }]);
    // The created event precedes the completed one, so it would have arrived first.
    await waitFor(() => everyone.events().some((event) => event.aggregateId === id), 'the completed event');
    expect(everyone.events().every((event) => event.type === 'TransactionCompleted')).toBe(true);
    expect(everyone.events().filter((event) => event.aggregateId === id)).toHaveLength(1);
  });

  it('filters by aggregate type', async () => {
    const id = newId('tx');
    const transactions = await openSse(eventsSubscription, { aggregateType: 'Transaction' });
    const accounts = await openSse(eventsSubscription, { aggregateType: 'Account' });

    await createTransaction(id);
    await completeTransaction(id);

    await waitFor(() => transactions.events().filter((event) => event.aggregateId === id).length === 2, 'both events');
    expect(transactions.events().every((event) => event.aggregateType === 'Transaction')).toBe(true);
    // Asserting an absence: once the relay has handed both events out, give the other subscription a moment.
    await relay.settle();
    await pause(200);
    expect(accounts.events().every((event) => event.aggregateType === 'Account')).toBe(true);
    expect(accounts.events().filter((event) => event.aggregateId === id)).toEqual([]);
  });

  it('starts from the first event of the log with fromStart, then goes on live', async () => {
    const id = await createTransaction();
    const subscription = await openSse(eventsSubscription, { id, fromStart: true });
    await subscription.count(1);
    await completeTransaction(id, 'hal');
    await subscription.count(2);
    expect(subscription.events().map((event) => [event.type, event.version])).toEqual([
      ['TransactionCreated', 1],
      ['TransactionCompleted', 2],
    ]);
    expect(subscription.events().map((event) => event.id)).toEqual((await streamOf(id)).map((event) => event.id));
  });

  it('rejects after together with fromStart with VALIDATION_FAILED', async () => {
    const id = await createTransaction();
    const [first] = await streamOf(id);
    const subscription = await subscribeSse(app.yoga, eventsSubscription, { after: first!.position, fromStart: true });
    onTestFinished(() => subscription.close());
    const [payload] = await subscription.take(1);
    expect(payload!.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('rejects a malformed cursor with VALIDATION_FAILED, not a masked error', async () => {
    for (const after of ['not-a-cursor', Buffer.from('c1:12:abc').toString('base64url'), '']) {
      const subscription = await openSse(eventsSubscription, { after });
      await subscription.count(1);
      const [payload] = subscription.payloads;
      expect(payload!.data ?? null).toBeNull();
      expect(payload!.errors).toHaveLength(1);
      expect(payload!.errors![0]!.extensions?.code).toBe('VALIDATION_FAILED');
      expect(payload!.errors![0]!.message).not.toMatch(/unexpected error/i);
    }
  });

  it('rejects a well-formed cursor that names no event of this log, as one from another database would', async () => {
    const id = await createTransaction();
    const [event] = await streamOf(id);
    const real = decodeCursor(event!.position);
    const foreign = encodeCursor({ transactionId: real.transactionId + 1n, position: real.position });

    const subscription = await openSse(eventsSubscription, { after: foreign });
    await subscription.count(1);
    const [payload] = subscription.payloads;
    expect(payload!.data ?? null).toBeNull();
    expect(payload!.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
    expect(payload!.errors![0]!.message).toMatch(/names no event of this event log/);

    const page = await execute(app.yoga, eventsQuery, { after: foreign });
    expect(page.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
    // The real cursor is accepted by both.
    expect((await execute(app.yoga, eventsQuery, { after: event!.position })).errors).toBeUndefined();
  });

  it('releases its relay listener when the client goes away', async () => {
    const before = relayListeners();
    const subscription = await openSse(eventsSubscription, { id: newId('tx') });
    await waitFor(() => relayListeners() === before + 1, 'the subscription to listen to the relay');
    await subscription.close();
    await waitFor(() => relayListeners() === before, 'the relay listener to be released');
  });
});

describe('transactionChanged over SSE', () => {
  it('releases its relay listener when the client goes away, even if nothing ever changed', async () => {
    const id = newId('tx');
    await createTransaction(id, inProcess, '1.00');
    const before = relayListeners();
    const subscription = await openSse(transactionChangedSubscription, { id });
    await waitFor(() => relayListeners() === before + 1, 'the subscription to listen to the relay');
    await subscription.close();
    await waitFor(() => relayListeners() === before, 'the relay listener to be released');
  });

  it('sends the projection after each committed change, from the moment it listens', async () => {
    const id = newId('tx');
    await createTransaction(id, inProcess, '7.00');
    const before = relayListeners();
    const subscription = await openSse(transactionChangedSubscription, { id });
    await waitFor(() => relayListeners() === before + 1, 'the subscription to listen to the relay');

    await completeTransaction(id, 'dave');
    await subscription.count(1);

    const views = subscription.payloads.map((payload) => {
      expect(payload.errors).toBeUndefined();
      return payload.data!.transactionChanged;
    });
    expect(views).toEqual([{ id, status: 'COMPLETED', currency: 'EUR', amount: '7', doneBy: 'dave', version: 2 }]);
  });

  it('answers an id with no transaction with NOT_FOUND, and ends', async () => {
    const subscription = await openSse(transactionChangedSubscription, { id: newId('tx') });
    await subscription.count(1);
    expect(subscription.payloads[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('events subscription over WebSocket', () => {
  let http: HttpServer;
  let port: number;

  beforeAll(async () => {
    http = createHttpServer(app.services);
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    port = (http.server.address() as AddressInfo).port;
  });
  afterAll(() => http.close());

  const overHttp: Run = async (query, variables) => {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  };

  const openClient = (): Client => {
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    onTestFinished(() => client.dispose());
    return client;
  };

  /** Subscribes over graphql-ws; resolves once the subscription listens to the relay. */
  const openWs = async (client: Client, query: string, variables: Record<string, unknown>) => {
    const before = relayListeners();
    const payloads: GraphQLResponse[] = [];
    const failures: unknown[] = [];
    const unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (payload) => void payloads.push(payload as GraphQLResponse),
        error: (error) => void failures.push(error),
        complete: () => undefined,
      },
    );
    onTestFinished(unsubscribe);
    await waitFor(() => relayListeners() > before || failures.length > 0, 'the subscription to listen to the relay');
    expect(failures).toEqual([]);
    return { ...received(payloads), unsubscribe };
  };

  it('delivers the events of an aggregate in commit order', async () => {
    const id = newId('tx');
    const subscription = await openWs(openClient(), eventsSubscription, { id });

    await createTransaction(id, overHttp, '3.30');
    await completeTransaction(id, 'erin', overHttp);
    await subscription.count(2);

    expect(subscription.events()).toMatchObject([
      { __typename: 'TransactionCreated', aggregateId: id, version: 1, currency: 'EUR', amount: '3.3' },
      { __typename: 'TransactionCompleted', aggregateId: id, version: 2, doneBy: 'erin' },
    ]);
    expect(subscription.events().map((event) => event.id)).toEqual((await streamOf(id)).map((event) => event.id));
  });

  it('resumes after a position', async () => {
    const earlier = await createTransaction(newId('tx'), overHttp);
    const id = await createTransaction(newId('tx'), overHttp);
    const [cursorEvent] = await streamOf(earlier);

    const subscription = await openWs(openClient(), eventsSubscription, { id, after: cursorEvent!.position });
    await subscription.count(1);
    await completeTransaction(id, 'frank', overHttp);
    await subscription.count(2);

    const events = subscription.events();
    expect(events.map((event) => [event.type, event.version])).toEqual([
      ['TransactionCreated', 1],
      ['TransactionCompleted', 2],
    ]);
    expect(events.map((event) => event.id)).toEqual((await streamOf(id)).map((event) => event.id));
  });

  it('starts from the first event of the log with fromStart, then goes on live', async () => {
    const id = await createTransaction(newId('tx'), overHttp);
    const subscription = await openWs(openClient(), eventsSubscription, { id, fromStart: true });
    await subscription.count(1);
    await completeTransaction(id, 'gina', overHttp);
    await subscription.count(2);
    expect(subscription.events().map((event) => [event.type, event.version])).toEqual([
      ['TransactionCreated', 1],
      ['TransactionCompleted', 2],
    ]);
  });

  it('rejects after together with fromStart with VALIDATION_FAILED', async () => {
    const id = await createTransaction(newId('tx'), overHttp);
    const [first] = await streamOf(id);
    const client = openClient();
    const payloads: GraphQLResponse[] = [];
    let completed = false;
    client.subscribe(
      { query: eventsSubscription, variables: { after: first!.position, fromStart: true } },
      { next: (payload) => void payloads.push(payload as GraphQLResponse), error: () => undefined, complete: () => (completed = true) },
    );
    await waitFor(() => completed, 'the subscription to complete');
    expect(payloads[0]!.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('rejects a malformed cursor with VALIDATION_FAILED', async () => {
    const client = openClient();
    const payloads: GraphQLResponse[] = [];
    let completed = false;
    client.subscribe(
      { query: eventsSubscription, variables: { after: 'garbage' } },
      { next: (payload) => void payloads.push(payload as GraphQLResponse), error: () => undefined, complete: () => (completed = true) },
    );
    await waitFor(() => completed, 'the subscription to complete');
    expect(payloads).toHaveLength(1);
    expect(payloads[0]!.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('releases its relay listener when the client disconnects', async () => {
    const before = relayListeners();
    const client = openClient();
    await openWs(client, eventsSubscription, { id: newId('tx') });
    expect(relayListeners()).toBe(before + 1);
    await client.dispose();
    await waitFor(() => relayListeners() === before, 'the relay listener to be released');
  });
});
