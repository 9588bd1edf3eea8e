import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CORSOptions } from 'graphql-yoga';
import { openAuthenticator, type Authenticator } from '../auth/authenticator.js';
import { readAfterHeader } from '../graphql/read-your-writes.js';

/** Who may call the server, from where, and what it shows of itself (README, "Security"). */
export type Security = {
  readonly authenticator: Authenticator;
  /** Origins besides the server's own that browsers may call it from (CORS, WebSocket `Origin`). */
  readonly corsOrigins: readonly string[];
  readonly graphiql: boolean;
  readonly introspection: boolean;
};

/** No authentication, same origin only, GraphiQL and introspection on: the development default. */
export const openSecurity: Security = { authenticator: openAuthenticator, corsOrigins: [], graphiql: true, introspection: true };

/** The headers a browser may send cross-origin, and the ones it may read back. */
const corsHeaders = {
  allowedHeaders: ['content-type', 'accept', 'authorization', 'x-request-id', 'x-correlation-id', readAfterHeader, 'x-graphql-yoga-csrf'],
  exposedHeaders: ['x-request-id', readAfterHeader],
};

/**
 * yoga's CORS, from an allowlist: an allowed origin gets its own name back (never `*`, never a
 * reflected stranger, never `null`); any other gets no CORS headers, so its browser reads nothing.
 * Same-origin requests need none.
 */
export const corsFor =
  (allowed: readonly string[]) =>
  (request: Request): CORSOptions => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.includes(origin)) return false;
    return { origin: [origin], credentials: true, methods: ['GET', 'POST'], maxAge: 600, ...corsHeaders };
  };

/**
 * Whether a WebSocket upgrade (or any request) comes from a page the server trusts: no `Origin`
 * (not a browser), the server's own host, or an allowed origin. Browsers send `Origin` on every
 * WebSocket handshake, and no CORS protects a socket: without this check any page a user visits
 * could open one with the user's network position.
 */
export const trustedOrigin = (req: IncomingMessage, allowed: readonly string[]): boolean => {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
};

/** API answers are JSON or event streams: nothing to run, frame or refer from. */
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** On every response: no sniffing, no referrer, no framing. GraphiQL's page sets its own policy. */
export const setSecurityHeaders = (res: ServerResponse): void => {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('content-security-policy', apiPolicy);
};

/** Bodies a browser sends cross-site without a preflight: refused outright, whatever the operation. */
const simpleBodies = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** True for a POST whose body is form-encoded, multipart or plain text (the CSRF vectors). */
export const isSimpleBody = (req: IncomingMessage): boolean => {
  if (req.method !== 'POST') return false;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  return type === '' || simpleBodies.some((simple) => type.startsWith(simple));
};
