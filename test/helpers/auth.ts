import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';
import type { App } from '../../src/app.js';
import { createAuthenticator, type AuthConfig } from '../../src/auth/authenticator.js';
import { mintToken } from '../../src/auth/mint.js';
import type { Scope } from '../../src/auth/principal.js';
import { createHttpServer, type Security } from '../../src/server.js';
import { testLogger, type TestHttp } from './app.js';

/** The HS256 secret of the servers these helpers start. */
export const testSecret = 'cairn-test-secret-of-thirty-two-bytes-or-more';

/** A token for `sub` with these scopes, signed with `testSecret`, valid for `expiresIn` seconds. */
export const tokenFor = (sub: string, scope: readonly Scope[], expiresIn = 600): Promise<string> =>
  mintToken({ secret: testSecret, sub, scope, expiresIn });

/** The roles of the access matrix, as tokens. */
export const roles = async () => ({
  reader: `Bearer ${await tokenFor('rita', ['cairn:read'])}`,
  writer: `Bearer ${await tokenFor('walt', ['cairn:read', 'cairn:write'])}`,
  owner: `Bearer ${await tokenFor('ada', ['cairn:read', 'cairn:write'])}`,
  admin: `Bearer ${await tokenFor('root', ['cairn:admin'])}`,
});

type SecuredOptions = { auth?: AuthConfig; security?: Partial<Omit<Security, 'authenticator'>> };

/** An HTTP server that requires tokens (HS256 with `testSecret` unless `auth` says otherwise), closed after the file. */
export const useSecuredServer = async (app: Pick<App, 'services'>, options: SecuredOptions = {}): Promise<TestHttp> => {
  const started = await startSecuredServer(app, options);
  afterAll(() => started.http.close());
  return started;
};

/** The same, for the caller to close (`http.close()`). */
export const startSecuredServer = async (app: Pick<App, 'services'>, options: SecuredOptions = {}): Promise<TestHttp> => {
  const http = createHttpServer(app.services, {
    security: {
      authenticator: createAuthenticator(options.auth ?? { mode: 'jwt', secret: testSecret }, testLogger),
      corsOrigins: [],
      graphiql: true,
      introspection: true,
      ...options.security,
    },
  });
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  const port = (http.server.address() as AddressInfo).port;
  return { http, port, base: `http://127.0.0.1:${port}` };
};

export type Answer = { status: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };

/** POSTs an operation as JSON with an optional `authorization` header. */
export const postAs = async (base: string, authorization: string | undefined, query: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(authorization && { authorization }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
};
