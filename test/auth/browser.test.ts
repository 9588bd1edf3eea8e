import { get, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useApp, useHttpServer } from '../helpers/app.js';
import { useSecuredServer } from '../helpers/auth.js';
import { waitFor } from '../helpers/wait.js';

/** What a browser may do with the server (issue 14): CORS, CSRF, WebSocket origins, headers, GraphiQL. */
const app = await useApp({ processManagers: [] });
const allowed = 'https://app.example.com';
const { base, port } = await useSecuredServer(app, { security: { corsOrigins: [allowed] } });
const closed = await useSecuredServer(app, { security: { graphiql: false, introspection: false } });

/** A GET whose body stays as sent (fetch would decompress it). */
const raw = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).once('error', reject);
  });

const query = JSON.stringify({ query: '{ __typename }' });
const post = (headers: Record<string, string>, body = query, at = base) => fetch(`${at}/graphql`, { method: 'POST', headers, body });

describe('CORS', () => {
  it('answers an allowed origin with its own name and credentials, and a stranger or `null` with nothing', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
    const ok = await preflight(allowed);
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    for (const origin of ['https://evil.example', 'null', `${allowed}.evil.example`]) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin'), origin).toBeNull();
      const simple = await post({ origin, 'content-type': 'application/json' });
      expect(simple.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });
});

describe('CSRF', () => {
  it.each([
    ['form-encoded', 'application/x-www-form-urlencoded', 'query=mutation%7BcreateOrder(input%3A%7Bname%3A%22x%22%7D)%7B__typename%7D%7D'],
    ['multipart', 'multipart/form-data; boundary=x', '--x\r\ncontent-disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--x--'],
    ['plain text', 'text/plain', query],
  ])('refuses a %s body, which a browser sends cross-site without a preflight (415)', async (_, type, body) => {
    const response = await post({ 'content-type': type }, body);
    expect(response.status).toBe(415);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('runs a GET only with a header a browser cannot add cross-site without a preflight', async () => {
    const url = `${base}/graphql?query=${encodeURIComponent('{ accounts(first: 1) { edges { cursor } } }')}`;
    const bare = await fetch(url, { headers: { accept: 'application/graphql-response+json' } });
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('CSRF_HEADER_REQUIRED');
    const withHeader = await fetch(url, { headers: { accept: 'application/graphql-response+json', 'x-graphql-yoga-csrf': '1' } });
    expect(((await withHeader.json()) as { errors?: { extensions: { code: string } }[] }).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('WebSocket origins', () => {
  const upgrade = (origin?: string) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', origin ? { origin } : {});
      socket.once('open', () => {
        socket.close();
        resolve(101);
      });
      socket.once('unexpected-response', (_, res) => resolve(res.statusCode ?? 0));
    });

  it('takes the server’s own origin, an allowed one and none (not a browser); refuses others with 403', async () => {
    expect(await upgrade(`http://127.0.0.1:${port}`)).toBe(101);
    expect(await upgrade(allowed)).toBe(101);
    expect(await upgrade()).toBe(101);
    expect(await upgrade('https://evil.example')).toBe(403);
    expect(await upgrade('null')).toBe(403);
  });
});

describe('headers and GraphiQL', () => {
  it('sets the security headers on every response', async () => {
    for (const path of ['/graphql', '/health', '/ready', '/metrics']) {
      const response = path === '/graphql' ? await post({ 'content-type': 'application/json' }) : await fetch(`${base}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(response.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
    }
  });

  it('serves GraphiQL compressed, under a policy that allows its own scripts only, never framed', async () => {
    const page = await raw(`${base}/graphql`, { accept: 'text/html', 'accept-encoding': 'gzip' });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.body.length).toBeLessThan(3_000_000);
    const html = gunzipSync(page.body).toString();
    expect(html.length).toBeGreaterThan(5_000_000);
    expect(html).toContain('renderYogaGraphiQL');
    const policy = String(page.headers['content-security-policy']);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+;/);
    expect(policy).not.toContain("'unsafe-eval'");
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    // With a token required, the headers pane says where to put it.
    expect(html).toContain('npm run token');
  });

  it('serves brotli once it is ready, and answers a matching ETag with 304', async () => {
    const ask = (headers: Record<string, string>) => raw(`${base}/graphql`, { accept: 'text/html', ...headers });
    const page = await waitFor(async () => {
      const answer = await ask({ 'accept-encoding': 'br, gzip' });
      return answer.headers['content-encoding'] === 'br' && answer;
    }, 'brotli to be ready', 30_000);
    expect(page.body.length).toBeLessThan(2_200_000);
    expect(brotliDecompressSync(page.body).toString()).toContain('renderYogaGraphiQL');
    const again = await ask({ 'accept-encoding': 'br', 'if-none-match': String(page.headers.etag) });
    expect(again.status).toBe(304);
  });

  it('turns GraphiQL and introspection off (CAIRN_GRAPHIQL, CAIRN_INTROSPECTION)', async () => {
    const page = await fetch(`${closed.base}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('renderYogaGraphiQL');
    const introspection = await post({ 'content-type': 'application/json', accept: 'application/graphql-response+json' }, JSON.stringify({ query: '{ __schema { types { name } } }' }), closed.base);
    const body = (await introspection.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0]!.message).toMatch(/introspection/i);
  });

  it('runs open without a key, as the development default does', async () => {
    const open = await useHttpServer(app);
    const answer = await fetch(`${open.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ accounts(first: 1) { edges { cursor } } }' }) });
    expect(((await answer.json()) as { errors?: unknown }).errors).toBeUndefined();
  });
});
