import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { useApp } from '../helpers/app.js';
import { postAs, startSecuredServer, testSecret, tokenFor, useSecuredServer } from '../helpers/auth.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { waitFor } from '../helpers/wait.js';

/** Authentication (issue 14): which tokens are taken, how a refusal looks, and how an expiry ends subscriptions. */
const app = await useApp({ processManagers: [] });
const { base, port } = await useSecuredServer(app);

const eventCount = async () => (await app.services.db.execute<{ n: number }>(sql`select count(*)::int as n from es.events`))[0]!.n;
const open = `mutation { openAccount(input: { currency: "EUR", initialBalance: "1" }) { ... on OpenAccountSuccess { account { owner } } } }`;
const sign = (claims: Record<string, unknown>, secret = testSecret, alg = 'HS256') =>
  new SignJWT(claims).setProtectedHeader({ alg }).setSubject('ada').setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(secret));

describe('tokens', () => {
  it('runs a command for the token’s subject, recorded as the actor of its events', async () => {
    const answer = await postAs(base, `Bearer ${await tokenFor('ada', ['cairn:write'])}`, open);
    expect(answer.body.data.openAccount.account.owner).toBe('ada');
    const [row] = await app.services.db.execute<{ actor: string }>(
      sql`select metadata->>'actor' as actor from es.events where aggregate_type = 'Account' order by recorded_at desc, id desc limit 1`,
    );
    expect(row!.actor).toBe('ada');
  });

  it.each([
    ['a malformed header', 'Token abc'],
    ['a token that is not a JWT', 'Bearer not-a-token'],
    ['a wrong signature', async () => `Bearer ${await sign({ scope: 'cairn:write' }, 'another-secret-of-thirty-two-bytes-or-more')}`],
    ['an expired token', async () => `Bearer ${await tokenFor('ada', ['cairn:write'], -60)}`],
    ['an unsigned token (alg none)', async () => `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"ada","scope":"cairn:admin"}').toString('base64url')}.`],
    ['another algorithm than HS256', async () => `Bearer ${await sign({ scope: 'cairn:write' }, testSecret, 'HS512')}`],
    ['a token without sub', async () => `Bearer ${await new SignJWT({ scope: 'cairn:admin' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(testSecret))}`],
  ])('refuses %s: 401 UNAUTHENTICATED, one message that tells nothing of why, nothing written', async (_, header) => {
    const authorization = typeof header === 'string' ? header : await header();
    const before = await eventCount();
    const answer = await postAs(base, authorization, open);
    expect(answer.status).toBe(401);
    expect(answer.body.errors).toEqual([
      { message: 'The token is missing, malformed, expired or not signed by a key this server trusts.', extensions: { code: 'UNAUTHENTICATED' } },
    ]);
    expect(answer.body.data).toBeUndefined();
    expect(await eventCount()).toBe(before);
  });

  it('answers a request without a token UNAUTHENTICATED, and a token without the scope FORBIDDEN', async () => {
    const nobody = await postAs(base, undefined, open);
    expect([nobody.status, nobody.body.errors?.[0]?.extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
    const reader = await postAs(base, `Bearer ${await tokenFor('ada', ['cairn:read'])}`, open);
    expect([reader.status, reader.body.errors?.[0]?.extensions?.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('prints a working token with npm run token', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/token.ts', '--sub', 'grace', '--scope', 'cairn:read cairn:write'], {
      env: { ...process.env, CAIRN_JWT_SECRET: testSecret },
    });
    const answer = await postAs(base, `Bearer ${stdout.trim()}`, open);
    expect(answer.body.data.openAccount.account.owner).toBe('grace');
  });

  it('closes a graphql-ws connection with a bad token with 4403 at connection_init', async () => {
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: 'Bearer x.y.z' } });
    onTestFinished(() => client.dispose());
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    client.subscribe({ query: 'subscription { events { id } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    expect(await closed).toBe(4403);
  });
});

describe('an expiring token', () => {
  it('ends the SSE subscriptions it opened with UNAUTHENTICATED, and closes graphql-ws with 4403', async () => {
    // Two seconds: the `exp` claim counts whole seconds.
    const authorization = `Bearer ${await tokenFor('ada', ['cairn:read'], 2)}`;
    const listening = app.services.relay.listenerCount;
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization } });
    onTestFinished(() => client.dispose());
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    client.subscribe({ query: 'subscription { events { id } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    const sse = await openHttpSse(base, 'subscription { events { id } }', {}, undefined, { authorization });
    onTestFinished(() => sse.close());
    await waitFor(() => app.services.relay.listenerCount >= listening + 2, 'both subscriptions to listen');
    expect(await closed).toBe(4403);
    await waitFor(() => sse.payloads.length > 0, 'the SSE stream to say why it ends', 5_000);
    expect(sse.payloads[0]!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await waitFor(() => app.services.relay.listenerCount <= listening, 'both relay listeners to be released');
  });
});

describe('keys from a JWKS URL', () => {
  it.each(['RS256', 'ES256'] as const)('takes %s tokens signed by a key the JWKS names, with issuer and audience checked', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const jwk = { ...(await exportJWK(publicKey)), kid: `k-${alg}`, alg, use: 'sig' };
    const jwks = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => jwks.close(() => resolve())));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const secured = await startSecuredServer(app, { auth: { mode: 'jwt', jwksUrl, issuer: 'https://id.example', audience: 'cairn' } });
    onTestFinished(() => secured.http.close());
    const token = (issuer: string, audience: string) =>
      new SignJWT({ scope: 'cairn:write' })
        .setProtectedHeader({ alg, kid: `k-${alg}` })
        .setSubject('ada')
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(privateKey);
    const good = await postAs(secured.base, `Bearer ${await token('https://id.example', 'cairn')}`, open);
    expect(good.body.data.openAccount.account.owner).toBe('ada');
    const wrongIssuer = await postAs(secured.base, `Bearer ${await token('https://evil.example', 'cairn')}`, open);
    expect(wrongIssuer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrongAudience = await postAs(secured.base, `Bearer ${await token('https://id.example', 'other')}`, open);
    expect(wrongAudience.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The HS256 secret is no key here: a token signed with it is refused.
    const hmac = await postAs(secured.base, `Bearer ${await tokenFor('ada', ['cairn:admin'])}`, open);
    expect(hmac.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
