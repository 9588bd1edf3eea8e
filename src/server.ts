import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Principal } from './auth/principal.js';
import type { Services } from './app.js';
import type { Context } from './graphql/context.js';
import { errorCodes } from './graphql/error-codes.js';
import { tokenExpiry } from './auth/expiry.js';
import { schema } from './graphql/schema.js';
import { limitChunkedBodies } from './graphql/body-limit.js';
import { inputGuard } from './graphql/input-guard.js';
import { defaultLimits, operationLimits, type Limits } from './graphql/limits.js';
import { readAfterHeader, readerFor, readYourWrites } from './graphql/read-your-writes.js';
import { requestLog } from './graphql/request-log.js';
import { SharedResults } from './graphql/shared-results.js';
import { connectionsPerClient, defaultClientLimits, tooManyConnections, type ClientLimits } from './http/client-limits.js';
import { json, processManagersHealthPath, serveProcessManagerHealth, serveReadiness } from './http/health.js';
import { attachWebSockets, defaultTimeouts, takesResultPages, type ConnectionTimeouts } from './http/websocket.js';
import { graphiqlPage } from './http/graphiql-page.js';
import { eventStreams, writesEventStream } from './http/event-stream.js';
import { corsFor, isSimpleBody, openSecurity, setSecurityHeaders, trustedOrigin, type Security } from './http/security.js';
import { createMetrics, metricsPath, serveMetrics } from './metrics.js';

export const graphqlPath = '/graphql';
export const maxBodyBytes = 1024 * 1024;
const shutdownGraceMs = 2_000;
const maxCorrelationIdLength = 200;

export { defaultLimits, type Limits } from './graphql/limits.js';

type ServerContext = {
  req?: IncomingMessage;
  res?: ServerResponse;
  requestId?: string;
  /** Set by the WebSocket server, which checks the token once, at `connection_init`. */
  principal?: Principal;
};

export { openSecurity, type Security } from './http/security.js';

/** Headers a non-browser client sends to run an operation without a JSON body (yoga's CSRF check). */
export const csrfHeaders = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

/** The client's request id when it is a plain token of at most 64 characters; a fresh one otherwise. */
export const requestIdOf = (header: string | string[] | undefined | null): string =>
  typeof header === 'string' && /^[\w.:-]{1,64}$/.test(header) ? header : randomUUID();

/** A line of yoga's own: its message when it gives one, else what kind of value it logged. */
const yogaLine = (args: unknown[]): string => (typeof args[0] === 'string' ? args[0] : args[0] instanceof Error ? 'yoga: an error' : 'yoga');

/** Subscription results shared between identical subscriptions, in pages for the transports cairn writes (SSE, graphql-ws). */
const sharedResults = () =>
  new SharedResults({
    pagesFor: (context) => {
      const { request, [takesResultPages]: takesPages } = (context ?? {}) as { request?: Request; [takesResultPages]?: boolean };
      return takesPages === true || writesEventStream(request);
    },
  });

/** Builds the yoga instance without listening: tests call `yoga.fetch` in process. */
export const createGraphQLServer = (
  services: Services,
  limits: Limits = defaultLimits,
  shared: SharedResults = sharedResults(),
  security: Security = openSecurity,
  eventStreamPingMs?: number,
) =>
  createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    // GraphiQL is served by the HTTP server (compressed, with its own content security policy).
    graphiql: false,
    landingPage: false,
    // Same origin only, unless the allowlist names the caller's origin.
    cors: corsFor(security.corsOrigins),
    // JSON bodies only: form-encoded and multipart ones are CSRF vectors (the HTTP server refuses them too).
    multipart: false,
    // The HTTP server refuses a content-length over the limit; `limitChunkedBodies` counts the rest.
    maxRequestBodySize: false,
    // Never yoga's dev mode, which adds the original message and stack when NODE_ENV=development.
    maskedErrors: { isDev: false },
    // yoga's own lines, errors described as describeError tells them; the unexpected errors of an
    // operation are logged by `requestLog`, with its request id and name, so yoga's copy is debug.
    logging: {
      debug: (...args) => services.logger.debug(yogaLine(args), { args: args.slice(1) }),
      info: (...args) => services.logger.info(yogaLine(args), { args: args.slice(1) }),
      warn: (...args) => services.logger.warn(yogaLine(args), { args: args.slice(1) }),
      error: (...args) => services.logger.debug(yogaLine(args), { error: args[0] }),
    },
    context: async ({ request, params, requestId, principal }) => {
      const correlationId = request?.headers?.get?.('x-correlation-id') ?? undefined;
      const readAfter = request?.headers?.get?.(readAfterHeader) ?? (params?.extensions?.readAfter as string | undefined) ?? undefined;
      return {
        services,
        principal: principal ?? (await security.authenticator.authenticate(request?.headers?.get?.('authorization'))),
        requestId: requestId ?? requestIdOf(request?.headers?.get?.('x-request-id')),
        read: readerFor(services, readAfter),
        ...(correlationId && correlationId.length <= maxCorrelationIdLength && { correlationId }),
        ...(typeof readAfter === 'string' && { readAfter }),
      };
    },
    plugins: [
      errorCodes(),
      // A request without a JSON body runs only with one of these headers, which a browser sends
      // cross-site only after a CORS preflight.
      useCSRFPrevention({ requestHeaders: csrfHeaders }),
      ...(security.introspection ? [] : [{ onValidate: ({ addValidationRule }: { addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void }) => addValidationRule(NoSchemaIntrospectionCustomRule) }]),
      tokenExpiry(),
      operationLimits(limits),
      inputGuard(),
      requestLog(services.logger),
      shared.plugin(),
      readYourWrites(services),
      limitChunkedBodies(maxBodyBytes),
      eventStreams({ ...(eventStreamPingMs !== undefined && { pingMs: eventStreamPingMs }), logger: services.logger }),
    ],
  });

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

export type HttpServer = {
  readonly server: Server;
  readonly yoga: GraphQLServer;
  /** Bytes the open WebSockets hold unsent (see `sendAheadBytes`). */
  webSocketBufferedBytes(): number;
  /** Stops accepting connections and ends open streams and sockets; calling it again is harmless. */
  close(): Promise<void>;
};

export { defaultTimeouts, type ConnectionTimeouts } from './http/websocket.js';
export { processManagersHealthPath } from './http/health.js';

export type HttpServerOptions = {
  readonly limits?: Limits;
  readonly timeouts?: ConnectionTimeouts;
  readonly clientLimits?: ClientLimits;
  readonly security?: Security;
};

/** The HTTP server: GraphQL (HTTP, SSE and graphql-ws on one path), /health, /ready and /metrics. */
export const createHttpServer = (services: Services, options: HttpServerOptions = {}): HttpServer => {
  const clientLimits = options.clientLimits ?? defaultClientLimits;
  const security = options.security ?? openSecurity;
  const shared = sharedResults();
  const yoga = createGraphQLServer(services, options.limits ?? defaultLimits, shared, security, options.timeouts?.eventStreamPingMs);
  // GraphiQL's bundle (9 MB of editor) loads on the page's first request, not at start-up.
  const graphiql = graphiqlPage(async () =>
    (await import('./graphql/graphiql.js')).graphiqlHtml({ endpoint: graphqlPath, authentication: security.authenticator.enabled }),
  );
  const metrics = createMetrics(services, shared);
  const connections = connectionsPerClient(clientLimits.maxConnectionsPerClient);
  /** Open SSE responses: a shutdown drops them (see `shutdown`). */
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const started = performance.now();
    res.once('close', () => metrics.observeRequest(path, res.statusCode, (performance.now() - started) / 1000));
    setSecurityHeaders(res);
    if (path === metricsPath) return void serveMetrics(metrics, res, services.logger);
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === processManagersHealthPath) return void serveProcessManagerHealth(services, res);
    if (path === '/ready') return void serveReadiness(services, res);
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
      return json(res, 413, { errors: [{ message: `request body is larger than ${maxBodyBytes} bytes`, extensions: { code: 'REQUEST_TOO_LARGE' } }] });
    }
    if (path === graphqlPath && security.graphiql && graphiql.wanted(req)) return void graphiql.serve(req, res);
    if (path === graphqlPath && isSimpleBody(req)) {
      return json(res, 415, {
        errors: [{ message: 'Send operations as JSON (content-type: application/json).', extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }],
      });
    }
    if (req.headers.accept?.includes('text/event-stream')) {
      const place = connections.admit(req);
      if (!place.admitted) return json(res, 429, tooManyConnections(clientLimits.maxConnectionsPerClient));
      streams.add(res);
      res.once('close', () => {
        streams.delete(res);
        place.release();
      });
    }
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    return yoga.handle(req, res, { req, res, requestId });
  });
  const webSockets = attachWebSockets({
    server,
    path: graphqlPath,
    yoga,
    shared,
    logger: services.logger,
    maxPayload: maxBodyBytes,
    timeouts: options.timeouts ?? defaultTimeouts,
    clientLimits,
    connections,
    authenticator: security.authenticator,
    trusted: (req) => trustedOrigin(req, security.corsOrigins),
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    yoga,
    webSocketBufferedBytes: () => webSockets.bufferedBytes(),
    close: () => (closing ??= shutdown()),
  };

  /**
   * Stops accepting connections and drops the open subscriptions as a lost connection, never as
   * their end: an SSE `complete` or a normal WebSocket close would tell graphql-sse, graphql-ws
   * and Apollo clients the subscription is over, and a deploy would silently stop every
   * frontend's live updates. Dropped, they reconnect and resume with their cursor. WebSockets
   * close with 1012 (service restart), which clients retry. Requests in flight get a grace period.
   */
  async function shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve())); // no new connections
    for (const stream of streams) stream.destroy();
    await webSockets.close();
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
    await closed;
    clearTimeout(grace);
  }
};
