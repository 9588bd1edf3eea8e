import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { sql } from 'drizzle-orm';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { Context, Services } from './graphql/context.js';
import { defaultQuery } from './graphql/graphiql.js';
import { schema } from './graphql/schema.js';
import { limitChunkedBodies } from './graphql/body-limit.js';
import { SharedResults } from './graphql/shared-results.js';
import { createMetrics, metricsPath, serveMetrics } from './metrics.js';

export const graphqlPath = '/graphql';
export const maxBodyBytes = 1024 * 1024;
const shutdownGraceMs = 2_000;
const maxCorrelationIdLength = 200;

export type Limits = { maxDepth: number; maxCost: number; maxAliases: number; maxTokens: number };
export const defaultLimits: Limits = { maxDepth: 12, maxCost: 20_000, maxAliases: 30, maxTokens: 5_000 };

type ServerContext = { req?: IncomingMessage; res?: ServerResponse };

/** Builds the yoga instance without listening: tests call `yoga.fetch` in process. */
export const createGraphQLServer = (
  services: Services,
  limits: Limits = defaultLimits,
  shared: SharedResults = new SharedResults(),
) =>
  createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    graphiql: { title: 'cairn', defaultQuery, subscriptionsProtocol: 'SSE' },
    // GraphiQL's assets are served from the package, so it works without a CDN.
    renderGraphiQL,
    landingPage: false,
    // The HTTP server refuses a content-length over the limit; `limitChunkedBodies` counts the rest.
    maxRequestBodySize: false,
    // Never yoga's dev mode, which adds the original message and stack when NODE_ENV=development.
    maskedErrors: { isDev: false },
    logging: {
      debug: (...args) => services.logger.debug(String(args[0]), { args: args.slice(1).map(String) }),
      info: (...args) => services.logger.info(String(args[0]), { args: args.slice(1).map(String) }),
      warn: (...args) => services.logger.warn(String(args[0]), { args: args.slice(1).map(String) }),
      error: (...args) => services.logger.error(String(args[0]), { args: args.slice(1) }),
    },
    context: ({ request }) => {
      const correlationId = request?.headers?.get?.('x-correlation-id') ?? undefined;
      return {
        services,
        ...(correlationId && correlationId.length <= maxCorrelationIdLength && { correlationId }),
      };
    },
    plugins: [
      maxTokensPlugin({ n: limits.maxTokens }),
      maxDepthPlugin({ n: limits.maxDepth, flattenFragments: true }),
      costLimitPlugin({ maxCost: limits.maxCost }),
      maxAliasesPlugin({ n: limits.maxAliases }),
      shared.plugin(),
      limitChunkedBodies(maxBodyBytes),
    ],
  });

export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

export type HttpServer = {
  readonly server: Server;
  readonly yoga: GraphQLServer;
  /** Stops accepting connections and ends open streams and sockets; calling it again is harmless. */
  close(): Promise<void>;
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const readiness = async (services: Services) => {
  const database = await services.db.execute(sql`select 1`).then(
    () => true,
    () => false,
  );
  return { ready: database && services.relay.ready, database, relay: services.relay.ready };
};

/** WebSocket heartbeat interval, and how long a client has to send graphql-ws `connection_init`. */
export type ConnectionTimeouts = { webSocketPingMs: number; connectionInitTimeoutMs: number };
export const defaultTimeouts: ConnectionTimeouts = { webSocketPingMs: 12_000, connectionInitTimeoutMs: 5_000 };

/** The HTTP server: GraphQL (HTTP, SSE and graphql-ws on one path), /health, /ready and /metrics. */
export const createHttpServer = (
  services: Services,
  limits: Limits = defaultLimits,
  timeouts: ConnectionTimeouts = defaultTimeouts,
): HttpServer => {
  const shared = new SharedResults();
  const yoga = createGraphQLServer(services, limits, shared);
  const metrics = createMetrics(services, shared);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const started = performance.now();
    res.once('close', () => metrics.observeRequest(path, res.statusCode, (performance.now() - started) / 1000));
    if (path === metricsPath) return void serveMetrics(metrics, res, services.logger);
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === '/ready') {
      void readiness(services).then((state) => json(res, state.ready ? 200 : 503, state));
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
      return json(res, 413, { errors: [{ message: `request body is larger than ${maxBodyBytes} bytes` }] });
    }
    return yoga.handle(req, res, { req, res });
  });

  /** Sends a shared subscription payload's JSON instead of stringifying it once per socket. */
  class SharedPayloadSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      (super.send as (...args: unknown[]) => void)(
        typeof data === 'string' ? shared.spliceWebSocketMessage(data) : data,
        ...rest,
      );
    }
  }
  const sockets = new WebSocketServer({
    server,
    path: graphqlPath,
    maxPayload: maxBodyBytes,
    WebSocket: SharedPayloadSocket,
  });
  // WebSocket-level heartbeat: a socket that has not answered the last ping is dead; end it.
  const alive = new WeakMap<WebSocket, boolean>();
  sockets.on('connection', (socket) => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  });
  const heartbeat = setInterval(() => {
    for (const socket of sockets.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, timeouts.webSocketPingMs);
  heartbeat.unref();
  const wsServer = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      // A client must send connection_init within this time, or the socket is closed (4408).
      connectionInitWaitTimeout: timeouts.connectionInitTimeoutMs,
      // A shared result goes out as is (graphql-ws would copy it), its JSON spliced in by the socket.
      onNext: (_ctx, _id, _payload, _args, result) => (shared.isShared(result) ? result : undefined),
      jsonMessageReplacer(key, value) {
        return shared.replacePayload(this, key, value);
      },
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const enveloped = yoga.getEnveloped({ req: ctx.extra.request, params: payload });
        const document = enveloped.parse(payload.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
    },
    sockets,
  );

  let closing: Promise<void> | undefined;
  return {
    server,
    yoga,
    close: () => (closing ??= shutdown()),
  };

  async function shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve())); // no new connections
    services.relay.endSubscriptions(); // open SSE streams end with `complete`
    await wsServer.dispose(); // graphql-ws sockets close with 1001 (going away)
    clearInterval(heartbeat);
    await new Promise<void>((resolve) => sockets.close(() => resolve()));
    server.closeIdleConnections();
    // Give the streams a moment to flush their last events, then cut whatever is left.
    const grace = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
    await closed;
    clearTimeout(grace);
  }
};

type Enveloped = {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
};
type OperationResult = ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;
