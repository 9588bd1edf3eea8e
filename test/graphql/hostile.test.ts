import { createClient, type Client } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { waitFor } from '../helpers/wait.js';

/** The probes an attacker ran against a live server (issue 13), each through the real HTTP server or graphql-ws. */
const app = await useApp({ processManagers: [] });
const { base, port } = await useHttpServer(app);

type Answer = { status: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string; field?: string } }[] } };

const post = async (query: string, variables: Record<string, unknown> = {}, accept = 'application/graphql-response+json'): Promise<Answer> => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
};

const openAccount = async () => {
  const { body } = await post(`mutation { openAccount(input: { owner: "hostile", currency: "EUR", initialBalance: "100" }) {
    ... on OpenAccountSuccess { account { id } } } }`);
  return body.data!.openAccount.account.id as string;
};

const ws = (): Client => {
  const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  onTestFinished(() => client.dispose());
  return client;
};

/** Subscribes over graphql-ws and records what comes back. */
const subscribe = (client: Client, query: string, variables: Record<string, unknown> = {}) => {
  const seen = { next: [] as any[], errors: [] as any[], complete: false };
  client.subscribe(
    { query, variables },
    { next: (value) => void seen.next.push(value), error: (error) => void seen.errors.push(error), complete: () => void (seen.complete = true) },
  );
  return seen;
};

const codes = (answer: Answer) => answer.body.errors?.map((error) => error.extensions?.code);

describe('code injection', () => {
  it('never runs a string literal of a subscription as code (graphql-jit writes literal arguments into the code it generates)', async () => {
    // graphql-jit writes a literal argument into its generated code as JSON, then turns every
    // string that starts with its (published) date marker into `new Date(<the rest>)`.
    const aggregateId = '__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74dglobalThis.cairnInjected=true';
    await app.services.store.transaction((session) =>
      session.appendToStream({ aggregateId, aggregateType: 'HostileProbe' }, [{ type: 'Probed', data: {} }], {
        expectedVersion: 0,
        metadata: { correlationId: 'cor_hostile', causationId: 'cmd_hostile' },
        occurredAt: new Date(),
      }),
    );
    const seen = subscribe(ws(), `subscription { events(aggregateId: "${aggregateId}", fromStart: true) { id aggregateId } }`);
    await waitFor(() => seen.next.length > 0 || seen.errors.length > 0, 'the event or an error');
    expect(seen.errors).toEqual([]);
    expect(seen.next[0].data.events.aggregateId).toBe(aggregateId);
    expect((globalThis as { cairnInjected?: unknown }).cairnInjected).toBeUndefined();
  });
});

describe('what a failing value tells', () => {
  it('masks a value that cannot be serialised in a subscription, over graphql-ws and SSE, as a query masks it', async () => {
    // A stored payload its event type cannot serve: the amount is no decimal string.
    const aggregateId = newId('hostile');
    await app.services.store.transaction((session) =>
      session.appendToStream({ aggregateId, aggregateType: 'HostileProbe' }, [{ type: 'TransactionCreated', data: { currency: 'EUR', amount: { secret: 'hunter2' } } }], {
        expectedVersion: 0,
        metadata: { correlationId: 'cor_hostile', causationId: 'cmd_hostile' },
        occurredAt: new Date(),
      }),
    );
    const query = `subscription ($id: ID!) { events(aggregateId: $id, fromStart: true) { id ... on TransactionCreated { amount } } }`;
    const masked = (payload: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) => {
      expect(payload.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([['Unexpected error.', 'INTERNAL_SERVER_ERROR']]);
      expect(JSON.stringify(payload)).not.toMatch(/Decimal|hunter2|string/);
    };
    const seen = subscribe(ws(), query, { id: aggregateId });
    await waitFor(() => seen.next.length > 0 || seen.errors.length > 0, 'the event or an error');
    masked(seen.next[0]);
    const overSse = await openHttpSse(base, query, { id: aggregateId });
    onTestFinished(() => overSse.close());
    await waitFor(() => overSse.payloads.length > 0, 'the event over SSE');
    masked(overSse.payloads[0]!);
    // The same value read by a query: graphql-js masks it.
    const answer = await post(`{ events(aggregateType: "HostileProbe", types: ["TransactionCreated"], first: 1) { edges { node { ... on TransactionCreated { amount } } } } }`);
    masked(answer.body);
  });
});

describe('amplification', () => {
  it('pages an aggregate’s events and weighs them: 30 aliases of 500 events each are refused before they run', async () => {
    const id = await openAccount();
    const aliases = Array.from({ length: 30 }, (_, n) => `a${n}: account(id: $id) { events(first: 500) { edges { node { id type data metadata } } } }`);
    const answer = await post(`query ($id: ID!) { ${aliases.join(' ')} }`, { id });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_TOO_COSTLY']);
    expect(answer.body.data).toBeUndefined();
    const one = await post(`query ($id: ID!) { account(id: $id) { events(first: 10) { edges { node { type version } } pageInfo { hasNextPage } } } }`, { id });
    expect(one.body.data!.account.events).toEqual({ edges: [{ node: { type: 'AccountOpened', version: 1 } }], pageInfo: { hasNextPage: false } });
  });

  it('weighs a page by the `first` its variables ask for, whatever an earlier run of the same document asked', async () => {
    const query = `query ($n: Int) { ${Array.from({ length: 4 }, (_, n) => `a${n}: events(first: $n) { edges { node { data } } }`).join(' ')} }`;
    expect((await post(query, { n: 10 })).body.errors).toBeUndefined();
    const large = await post(query, { n: 500 });
    expect(large.status).toBe(400);
    expect(codes(large)).toEqual(['QUERY_TOO_COSTLY']);
    expect((await post(query, { n: 10 })).body.errors).toBeUndefined();
  });

  it('bounds the types filter: at most 100, each a type this log knows', async () => {
    const many = Array.from({ length: 45_000 }, (_, n) => `T${n}`);
    expect(codes(await post(`query ($t: [String!]) { events(types: $t) { edges { cursor } } }`, { t: many }))).toEqual(['VALIDATION_FAILED']);
    expect(codes(await post(`{ events(types: ["NoSuchEvent"]) { edges { cursor } } }`))).toEqual(['VALIDATION_FAILED']);
    expect(codes(await post(`{ events(aggregateType: "NoSuchAggregate") { edges { cursor } } }`))).toEqual(['VALIDATION_FAILED']);
    expect((await post(`{ events(types: ["AccountOpened"], aggregateType: "Account", first: 1) { edges { cursor } } }`)).body.errors).toBeUndefined();
  });

  it('counts __typename aliases against the alias limit', async () => {
    const answer = await post(`{ ${Array.from({ length: 31 }, (_, n) => `t${n}: __typename`).join(' ')} }`);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['TOO_MANY_ALIASES']);
  });

  it('bounds subscriptions per graphql-ws connection, with a clean error for the one too many', async () => {
    const client = ws();
    const query = `subscription ($id: ID) { events(aggregateId: $id) { id } }`;
    const open = Array.from({ length: 100 }, () => subscribe(client, query, { id: newId('acc') }));
    await waitFor(() => app.services.relay.listenerCount >= 100, 'a hundred subscriptions to listen');
    const tooMany = subscribe(client, query, { id: newId('acc') });
    await waitFor(() => tooMany.errors.length > 0, 'the 101st to be refused');
    expect(tooMany.errors[0]).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS' }) })]);
    expect(open.every((seen) => seen.errors.length === 0 && !seen.complete)).toBe(true);
  });
});

describe('one bad operation never hurts another on the same socket', () => {
  it.each([
    ['a syntax error', 'subscription { events { id '],
    ['too deep', `subscription { accountChanged(id: "acc_x") { ${'transfers { edges { node { fromAccount { '.repeat(3)}id${' } } } }'.repeat(3)} } }`],
    ['too many aliases', `subscription { ${Array.from({ length: 31 }, (_, n) => `a${n}: __typename`).join(' ')} }`],
    ['too many tokens', `subscription { events { ${'id '.repeat(6_000)} } }`],
  ])('answers %s with an error for that operation and keeps the socket', async (_, query) => {
    const client = ws();
    const id = await openAccount();
    const good = subscribe(client, `subscription ($id: ID) { events(aggregateId: $id) { version } }`, { id });
    await waitFor(() => app.services.relay.listenerCount > 0, 'the good subscription to listen');
    const bad = subscribe(client, query);
    await waitFor(() => bad.errors.length > 0, 'the bad operation to be answered');
    expect(Array.isArray(bad.errors[0])).toBe(true); // an `error` message, not a closed socket
    await post(`mutation ($id: ID!) { creditAccount(input: { accountId: $id, amount: "1" }) { __typename } }`, { id });
    await waitFor(() => good.next.length === 1, 'the good subscription to go on');
    expect(good.errors).toEqual([]);
  });

  it('refuses accountChanged for an account that does not exist (NOT_FOUND) or an id of another type (VALIDATION_FAILED)', async () => {
    const client = ws();
    const missing = subscribe(client, `subscription ($id: ID!) { accountChanged(id: $id) { id } }`, { id: newId('acc') });
    const wrong = subscribe(client, `subscription ($id: ID!) { accountChanged(id: $id) { id } }`, { id: newId('tx') });
    await waitFor(() => missing.next.length + missing.errors.length > 0 && wrong.next.length + wrong.errors.length > 0, 'both to be answered');
    expect(missing.next[0]?.errors?.[0]?.extensions?.code ?? missing.errors[0]?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(wrong.next[0]?.errors?.[0]?.extensions?.code ?? wrong.errors[0]?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    const sse = await openHttpSse(base, `subscription ($id: ID!) { orderChanged(id: $id) { id } }`, { id: newId('ord') });
    await waitFor(() => sse.payloads.length > 0, 'the SSE answer');
    expect(sse.payloads[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    sse.close();
  });
});

describe('clean errors', () => {
  it.each([
    ['owner', { owner: 'a\u0000b', currency: 'EUR', initialBalance: '1' }],
    ['owner', { owner: 'a\uD800b', currency: 'EUR', initialBalance: '1' }],
    ['idempotencyKey', { owner: 'ok', currency: 'EUR', initialBalance: '1', idempotencyKey: 'k\uDC00' }],
    ['currency', { owner: 'ok', currency: 'E\u0000R', initialBalance: '1' }],
  ])('answers a NUL or a lone surrogate in %s with VALIDATION_FAILED naming it, and writes nothing', async (field, input) => {
    const answer = await post(
      `mutation ($input: OpenAccountInput!) { openAccount(input: $input) { __typename ... on ValidationError { code field } } }`,
      { input },
    );
    expect(answer.body.data!.openAccount).toEqual({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field });
    expect((await post(`{ accounts(first: 500) { edges { node { owner } } } }`)).body.data!.accounts.edges.map((edge: any) => edge.node.owner)).not.toContain(input.owner);
  });

  it.each([
    ['an id', `query ($v: ID!) { account(id: $v) { id } }`, 'id'],
    ['a cursor', `query ($v: String) { events(after: $v) { edges { cursor } } }`, 'after'],
    ['a filter', `query ($v: String) { organizations(country: $v) { edges { cursor } } }`, 'country'],
  ])('answers a NUL in %s of a query with VALIDATION_FAILED naming it', async (_, query, field) => {
    const answer = await post(query, { v: 'x\u0000y' });
    expect(codes(answer)).toEqual(['VALIDATION_FAILED']);
    expect(answer.body.errors![0]!.extensions?.field).toBe(field);
  });

  it('answers a cursor with out-of-range numbers with VALIDATION_FAILED', async () => {
    const cursor = Buffer.from('c1:99999999999999999999:1').toString('base64url');
    expect(codes(await post(`query ($c: String) { events(after: $c) { edges { cursor } } }`, { c: cursor }))).toEqual(['VALIDATION_FAILED']);
    const position = Buffer.from('c1:1:99999999999999999999').toString('base64url');
    expect(codes(await post(`query ($c: String) { events(after: $c) { edges { cursor } } }`, { c: position }))).toEqual(['VALIDATION_FAILED']);
  });

  it('answers another type’s id with time travel with null', async () => {
    expect((await post(`{ accountVersion(id: "${newId('tx')}", version: 1) { id } }`)).body).toEqual({ data: { accountVersion: null } });
  });

  it('answers 5,000-deep list and object literals with a clean error', async () => {
    const list = await post(`{ events(types: ${'['.repeat(5_000)}"A"${']'.repeat(5_000)}) { edges { cursor } } }`);
    expect(list.status).toBe(400);
    expect(codes(list)?.[0]).toMatch(/^[A-Z_]+$/);
    // Written out by hand: JSON.stringify itself overflows the stack on it.
    const input = `${'{"owner":'.repeat(5_000)}"x"${'}'.repeat(5_000)}`;
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: `{"query":"mutation ($input: OpenAccountInput!) { openAccount(input: $input) { __typename } }","variables":{"input":${input}}}`,
    });
    const object = { status: response.status, body: (await response.json()) as Answer['body'] };
    expect(object.status).toBe(400);
    expect(codes(object)?.[0]).toMatch(/^[A-Z_]+$/);
    expect(JSON.stringify(object.body)).not.toMatch(/Unexpected error|stack/);
  });

  it.each([
    ['depth', `{ __type(name: "Query") { ${'ofType { '.repeat(12)}name${' }'.repeat(12)} } }`, 'QUERY_TOO_DEEP', /depth/i],
    ['aliases', `{ ${Array.from({ length: 31 }, (_, n) => `a${n}: transaction(id: "tx_nope") { id }`).join(' ')} }`, 'TOO_MANY_ALIASES', /alias/i],
    ['tokens', `{ ${'__typename '.repeat(6_000)} }`, 'TOO_MANY_TOKENS', /token/i],
  ])('answers a query over the %s limit with 400, a stable code and an honest message', async (_, query, code, wording) => {
    const answer = await post(query);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual([code]);
    expect(answer.body.errors![0]!.message).toMatch(wording);
    expect(answer.body.errors![0]!.message).not.toMatch(/^Syntax Error/);
  });

  it.each(['+5', ' 5', '5 ', '\t5\n', '5.', '.5', '1e3', '0x10'])('refuses the Decimal %j', async (amount) => {
    const answer = await post(`mutation ($a: Decimal!) { openAccount(input: { owner: "d", currency: "EUR", initialBalance: $a }) { __typename } }`, {
      a: amount,
    });
    expect(codes(answer)).toEqual(['VALIDATION_FAILED']);
  });
});

describe('bounds per client', () => {
  it('refuses a client its SSE stream or WebSocket over the limit (429, TOO_MANY_CONNECTIONS), and takes it again once one closes', async () => {
    const { createHttpServer } = await import('../../src/server.js');
    const limited = createHttpServer(app.services, { clientLimits: { maxConnectionsPerClient: 2, maxSubscriptionsPerConnection: 100 } });
    await new Promise<void>((resolve) => limited.server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => limited.close());
    const at = `http://127.0.0.1:${(limited.server.address() as { port: number }).port}`;
    const query = `subscription ($id: ID) { events(aggregateId: $id) { id } }`;
    const first = await openHttpSse(at, query, { id: newId('acc') });
    const second = await openHttpSse(at, query, { id: newId('acc') });
    const refused = await fetch(`${at}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables: { id: newId('acc') } }),
    });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as Answer['body']).errors?.[0]?.extensions?.code).toBe('TOO_MANY_CONNECTIONS');
    const socket = new WebSocket(`${at.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const status = await new Promise<number>((resolve) => socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(429);
    first.close();
    await waitFor(async () => {
      const again = new WebSocket(`${at.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const opened = await new Promise<boolean>((resolve) => {
        again.once('open', () => resolve(true));
        again.once('unexpected-response', () => resolve(false));
      });
      again.close();
      return opened;
    }, 'a place to be given back');
    second.close();
  });
});

describe('masking', () => {
  it('masks an unexpected error of a graphql-ws operation whatever NODE_ENV says', async () => {
    const { createHttpServer } = await import('../../src/server.js');
    const { PostgresEventStore } = await import('../../src/eventstore/postgres-store.js');
    class FailingStore extends PostgresEventStore {
      override async hasEvent(): Promise<never> {
        throw new Error('secret detail of the database');
      }
    }
    const failing = createHttpServer({ ...app.services, store: new FailingStore(app.services.db) });
    await new Promise<void>((resolve) => failing.server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => failing.close());
    const client = createClient({
      url: `ws://127.0.0.1:${(failing.server.address() as { port: number }).port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    onTestFinished(() => client.dispose());
    const seen = subscribe(client, `subscription ($after: String) { events(after: $after) { id } }`, {
      after: Buffer.from('c1:5:5').toString('base64url'),
    });
    await waitFor(() => seen.errors.length + seen.next.length > 0, 'the operation to be answered');
    const text = JSON.stringify([seen.errors, seen.next]);
    expect(text).toContain('Unexpected error.');
    expect(text).not.toContain('secret');
  });
});

describe('logs', () => {
  it('log a failing statement by the database’s code and message, with the request id and operation name, never its parameters', async () => {
    const { createGraphQLServer } = await import('../../src/server.js');
    const { PostgresEventStore } = await import('../../src/eventstore/postgres-store.js');
    const { createLogger } = await import('../../src/logger.js');
    const { sql } = await import('drizzle-orm');
    const secret = 'ada-lovelace-1815';
    class FailingStore extends PostgresEventStore {
      override async readStream(): Promise<never> {
        await app.services.db.execute(sql`select ${secret}::int`);
        throw new Error('unreachable');
      }
    }
    const failing = new FailingStore(app.services.db);
    const lines: string[] = [];
    const logger = createLogger('info');
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk === 'string' && chunk.includes('"level"')) lines.push(chunk);
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    onTestFinished(() => void (process.stderr.write = write));
    const read = { ...app.services.read, reader: async () => ({ db: app.services.db, store: failing, replica: false }) };
    const yoga = createGraphQLServer({ ...app.services, logger, store: failing, read });
    const id = await openAccount();
    const response = await yoga.fetch('http://cairn.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'probe-42' },
      body: JSON.stringify({ query: `query Probe($id: ID!) { account(id: $id) { events { edges { cursor } } } }`, variables: { id, note: secret } }),
    });
    expect(response.headers.get('x-request-id')).toBe(null); // yoga.fetch: the HTTP server sets it
    expect(JSON.stringify(await response.json())).toContain('Unexpected error.');
    const logged = lines.map((line) => JSON.parse(line) as Record<string, any>).filter((line) => line.requestId === 'probe-42');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', operationName: 'Probe', error: { code: '22P02', message: 'invalid input syntax for type integer: "…"' } });
    expect(logged[0]!.error.stack).toBeUndefined();
    const text = lines.join('');
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/select|params/i);
  });
});
