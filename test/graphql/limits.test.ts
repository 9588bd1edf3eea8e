import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { createHttpServer, defaultLimits, graphqlPath, maxBodyBytes } from '../../src/server.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { execute, type GraphQLResponse } from '../helpers/graphql.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { waitFor } from '../helpers/wait.js';

const app = await useApp();
const server = await useHttpServer(app);

/** `{ __type(name: "Query") { ofType { … { name } } } }`: depth is `levels + 2`. */
const nestedQuery = (levels: number): string =>
  `{ __type(name: "Query") { ${'ofType { '.repeat(levels)}name${' }'.repeat(levels)} } }`;

/** `count` aliased root fields. */
const aliasedQuery = (count: number): string =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: transaction(id: "tx_nope") { id }`).join(' ')} }`;

describe('operation limits over yoga.fetch', () => {
  it('accepts a query exactly at the depth limit', async () => {
    const response = await execute(app.yoga, nestedQuery(defaultLimits.maxDepth - 2));
    expect(response.errors).toBeUndefined();
    expect(response.data!.__type).toEqual({ ofType: null }); // Query is not a wrapping type
  });

  it('rejects a query nested deeper than the limit, without data', async () => {
    const response = await execute(app.yoga, nestedQuery(defaultLimits.maxDepth - 1));
    expect(response.data).toBeUndefined();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.message).toMatch(/depth/i);
  });

  it('accepts as many aliases as the limit', async () => {
    const response = await execute(app.yoga, aliasedQuery(defaultLimits.maxAliases));
    expect(response.errors).toBeUndefined();
    expect(Object.keys(response.data!)).toHaveLength(defaultLimits.maxAliases);
  });

  it('rejects more aliases than the limit, without data', async () => {
    const response = await execute(app.yoga, aliasedQuery(defaultLimits.maxAliases + 1));
    expect(response.data).toBeUndefined();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.message).toMatch(/alias/i);
  });
});

it('rejects a request body over 1 MiB in process too', async () => {
  const response = await app.yoga.fetch(`http://cairn.test${graphqlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(maxBodyBytes) } }),
  });
  expect(response.status).toBe(413);
});

describe('the HTTP server', () => {
  const { base } = server;

  const post = (body: string) =>
    fetch(`${base}${graphqlPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    });

  it('answers a request below the body limit', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(maxBodyBytes - 1024) } });
    const response = await post(body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers 413 to a request body over 1 MiB', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(maxBodyBytes) } });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    const response = await post(body);
    expect(response.status).toBe(413);
  });

  it('answers 413 to a chunked request body over 1 MiB (no content-length to check up front)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}${graphqlPath}`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"query":"{ __typename }","variables":{"padding":"');
      for (let sent = 0; sent <= 2 * maxBodyBytes; sent += 64 * 1024) req.write('x'.repeat(64 * 1024));
      req.end('"}}');
    });
    expect(status).toBe(413);
  });

  it('answers GET /health with 200', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('answers GET /ready with 200 and ready: true once the database and the relay are connected', async () => {
    const response = await fetch(`${base}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ready: true, database: true, relay: true });
  });
});

describe('the response size bound on subscriptions', () => {
  it('replaces only the result over the bound, in its place, when results go out in pages (SSE and graphql-ws)', async () => {
    const maxResponseBytes = 2_000;
    const http = createHttpServer(app.services, { limits: { ...defaultLimits, maxResponseBytes } });
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => http.close());
    const { port } = http.server.address() as AddressInfo;
    const t = `Sized_${newId('t').slice(2, 12)}`;
    const sizes = [10, 10, 3_000, 10, 10];
    await app.services.store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('sized'), aggregateType: t }, sizes.map((size) => ({ type: 'Sized', data: { pad: 'x'.repeat(size) } })), {
        expectedVersion: 0,
        metadata: { correlationId: 'cor', causationId: 'cmd' },
        occurredAt: new Date(),
      }),
    );
    await app.services.relay.settle();
    const query = `subscription ($t: String) { events(aggregateType: $t, fromStart: true) { id ... on UntypedEvent { data } } }`;
    type Payload = GraphQLResponse<{ events: { data: { pad: string } } }>;
    const expectSized = (payloads: readonly Payload[]) => {
      expect(payloads.map((payload) => payload.data?.events.data.pad.length ?? payload.errors?.map((error) => error.extensions?.code).join())).toEqual([
        10,
        10,
        'RESPONSE_TOO_LARGE',
        10,
        10,
      ]);
    };
    const overSse = await openHttpSse<Payload['data']>(`http://127.0.0.1:${port}`, query, { t });
    onTestFinished(() => overSse.close());
    await waitFor(() => overSse.payloads.length === sizes.length, 'five results over SSE');
    expectSized(overSse.payloads as Payload[]);

    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    onTestFinished(() => client.dispose());
    const overWs: Payload[] = [];
    client.subscribe({ query, variables: { t } }, { next: (payload) => void overWs.push(payload as Payload), error: () => undefined, complete: () => undefined });
    await waitFor(() => overWs.length === sizes.length, 'five results over graphql-ws');
    expectSized(overWs);
  });
});
