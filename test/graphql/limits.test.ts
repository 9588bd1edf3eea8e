import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { defaultLimits, graphqlPath, maxBodyBytes } from '../../src/server.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { execute } from '../helpers/graphql.js';

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
