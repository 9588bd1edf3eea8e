import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { GraphQLServer } from '../server.js';
import { pageResults, type SharedResults } from '../graphql/shared-results.js';
import type { Logger } from '../logger.js';
import { holdWritesForThisTurn } from './batched-writes.js';
import { connectionsPerClient, tooManyConnections, type ClientLimits } from './client-limits.js';
import { textFrames } from './websocket-frames.js';

/** Bytes a socket may hold unsent before a subscription waits for its client (see `SharedPayloadSocket`). */
export const sendAheadBytes = 256 * 1024;

const closingBrace = Buffer.from('}');

/**
 * Set (true) on the initial context of a graphql-ws operation: this server takes pages of results
 * (see `ResultPage`) and sends a page as one message per result.
 */
export const takesResultPages = Symbol('cairn.takesResultPages');

/**
 * WebSocket heartbeat interval, how long a client has to send graphql-ws `connection_init`, and how
 * often an SSE stream sends a keep-alive comment (`eventStreamPingMs`, 12 s when absent).
 */
export type ConnectionTimeouts = { webSocketPingMs: number; connectionInitTimeoutMs: number; eventStreamPingMs?: number };
export const defaultTimeouts: ConnectionTimeouts = { webSocketPingMs: 12_000, connectionInitTimeoutMs: 5_000 };

type Enveloped = {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
};
type OperationResult = ReturnType<NonNullable<Parameters<typeof useServer>[0]['execute']>>;

/**
 * An operation's refusal as graphql-ws sends it (an `error` message for that one operation): the
 * error's message and code when it is a client error, else masked. Never a thrown error: graphql-ws
 * answers those by closing the whole socket with 4500, which kills every other subscription on it
 * and which graphql-ws and Apollo clients take as fatal (no reconnect).
 */
const operationError = (error: unknown, logger: Logger): GraphQLError => {
  if (error instanceof GraphQLError && (error.extensions.code || error.message.startsWith('Syntax Error'))) {
    return new GraphQLError(error.message, {
      ...(error.nodes && { nodes: error.nodes }),
      extensions: { code: error.extensions.code ?? 'GRAPHQL_PARSE_FAILED' },
    });
  }
  logger.error('a graphql-ws operation failed before it ran', { error });
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
};

/**
 * graphql-ws on the HTTP server's `/graphql` upgrades: the same yoga envelope (limits, masking,
 * shared results) as HTTP and SSE, a WebSocket heartbeat, and bounds per client and per connection.
 */
export const attachWebSockets = (options: {
  readonly server: Server;
  readonly path: string;
  readonly yoga: GraphQLServer;
  readonly shared: SharedResults;
  readonly logger: Logger;
  readonly maxPayload: number;
  readonly timeouts: ConnectionTimeouts;
  readonly clientLimits: ClientLimits;
  readonly connections: ReturnType<typeof connectionsPerClient>;
  readonly authenticator: Authenticator;
  /** Whether the upgrade's `Origin` is one the server trusts (see `trustedOrigin`). */
  readonly trusted: (req: IncomingMessage) => boolean;
}) => {
  const { shared, yoga, logger } = options;
  /** Sends a shared subscription payload's JSON instead of stringifying it once per socket, and a page of results as one write. */
  class SharedPayloadSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      // The frames of one turn of the event loop leave in one system call.
      holdWritesForThisTurn(this.tcp);
      const done = rest.at(-1);
      const page = typeof data === 'string' ? shared.webSocketPage(data) : undefined;
      if (page && this.mayWriteFrames()) {
        const frames = textFrames(Buffer.from(page.head), page.results.map((result) => shared.jsonBytes(result)), closingBrace);
        this.sendAhead(done, (callback) => this.tcp!.write(frames, callback));
        return;
      }
      const messages = page ? page.results.map((result) => `${page.head}${shared.json(result)}}`) : [typeof data === 'string' ? shared.webSocketMessage(data) : data];
      const last = messages.pop();
      // A page of results: one message per result, the callback with the last.
      for (const message of messages) (super.send as (...args: unknown[]) => void)(message);
      const options = typeof done === 'function' ? rest.slice(0, -1) : rest;
      this.sendAhead(done, (callback) => (super.send as (...args: unknown[]) => void)(last, ...options, ...(callback ? [callback] : [])));
    }

    /**
     * graphql-ws waits for each message's write callback before it takes the subscription's next
     * event: a subscriber sent one event per turn of the loop, one system call each. Below the
     * bound the message counts as sent at once, so a relay batch leaves together; above it the
     * callback waits for the socket to flush, and a slow client holds its own subscription back.
     */
    private sendAhead(done: unknown, write: (callback?: (error?: Error | null) => void) => void): void {
      if (typeof done !== 'function') return write();
      if (this.bufferedAmount < sendAheadBytes) {
        write();
        queueMicrotask(() => (done as () => void)());
        return;
      }
      write(done as (error?: Error | null) => void);
    }

    private get tcp(): Socket | undefined {
      return (this as unknown as { _socket?: Socket })._socket;
    }

    /**
     * Whether a page's frames may go straight to the TCP socket: the connection is open, nothing
     * waits in ws's sender (which would otherwise go out after them) and no extension (compression)
     * was agreed, so a frame is the plain text frame `textFrames` makes. ws 8's sender keeps its
     * state in these fields; should they change, pages go through `send`, one message each.
     */
    private mayWriteFrames(): boolean {
      const internals = this as unknown as { _sender?: { _state?: unknown; _queue?: unknown[]; _firstFragment?: unknown }; _extensions?: Record<string, unknown> };
      const sender = internals._sender;
      return (
        this.readyState === WebSocket.OPEN &&
        this.tcp !== undefined &&
        sender?._state === 0 &&
        sender._queue?.length === 0 &&
        sender._firstFragment === true &&
        internals._extensions !== undefined &&
        Object.keys(internals._extensions).length === 0
      );
    }
  }
  // Upgrades are handed over by hand (`noServer`): a WebSocket server attached to the HTTP server
  // re-emits the HTTP server's errors, and a port in use was then reported by graphql-ws as an
  // internal WebSocket error while the process kept running. Other paths are refused (400).
  const sockets = new WebSocketServer({ noServer: true, path: options.path, maxPayload: options.maxPayload, WebSocket: SharedPayloadSocket });
  options.server.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (!options.trusted(req)) {
      const body = JSON.stringify({ errors: [{ message: 'This origin may not open a WebSocket here.', extensions: { code: 'FORBIDDEN' } }] });
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    const place = options.connections.admit(req);
    if (!place.admitted) {
      const body = JSON.stringify(tooManyConnections(options.clientLimits.maxConnectionsPerClient));
      socket.end(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    socket.once('close', place.release);
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });

  const { maxSubscriptionsPerConnection } = options.clientLimits;
  const wsServer = useServer<Record<string, unknown>, { request: IncomingMessage; socket: WebSocket; principal?: Principal }>(
    {
      // A client must send connection_init within this time, or the socket is closed (4408).
      connectionInitWaitTimeout: options.timeouts.connectionInitTimeoutMs,
      // The token travels in `connectionParams.authorization` and is checked once, here: a bad one
      // closes the socket with 4403. When it expires, the socket closes with 4403 too, ending
      // every subscription it carried.
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        try {
          ctx.extra.principal = await options.authenticator.authenticate(typeof authorization === 'string' ? authorization : undefined);
        } catch {
          return false;
        }
        const expiresAt = ctx.extra.principal.expiresAt;
        if (expiresAt !== undefined && expiresAt - Date.now() < 2 ** 31 - 1) {
          const timer = setTimeout(() => ctx.extra.socket.close(4403, 'Forbidden: the token has expired'), Math.max(0, expiresAt - Date.now()));
          ctx.extra.socket.once('close', () => clearTimeout(timer));
        }
        return true;
      },
      // A shared result goes out as is (graphql-ws would copy it), its JSON spliced in by the socket.
      // A page of results goes out as one message per result (see `webSocketPage`).
      onNext: (_ctx, _id, _payload, _args, result) => (shared.isShared(result) || pageResults(result) ? result : undefined),
      jsonMessageReplacer(key, value) {
        return shared.replacePayload(this, key, value);
      },
      // yoga's envelope masks what fails inside; a throw here would close the whole socket (4500).
      execute: async (args) => {
        try {
          return await (args.rootValue as Enveloped).execute(args);
        } catch (error) {
          return { errors: [operationError(error, logger)] };
        }
      },
      subscribe: async (args) => {
        try {
          return await (args.rootValue as Enveloped).subscribe(args);
        } catch (error) {
          return { errors: [operationError(error, logger)] };
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already reserved this operation's place in `subscriptions`.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(`This connection carries ${maxSubscriptionsPerConnection} operations already; complete one first.`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        try {
          const enveloped = yoga.getEnveloped({
            req: ctx.extra.request,
            params: payload,
            [takesResultPages]: true,
            ...(ctx.extra.principal && { principal: ctx.extra.principal }),
          });
          const document = enveloped.parse(payload.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return errors.map((error: GraphQLError) => operationError(error, logger));
          const args: ExecutionArgs = {
            schema: enveloped.schema,
            document,
            operationName: payload.operationName ?? null,
            variableValues: payload.variables ?? null,
            contextValue: await enveloped.contextFactory(),
            rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
          };
          return args;
        } catch (error) {
          return [operationError(error, logger)];
        }
      },
    },
    sockets,
    // graphql-ws's WebSocket heartbeat: a ping every interval, and a socket that has not answered
    // within the next one is dead and ended. Left at its own default (12 s), it ignored the setting.
    options.timeouts.webSocketPingMs,
  );

  return {
    /** Bytes the open sockets hold unsent: each at most `sendAheadBytes` and one message. */
    bufferedBytes(): number {
      let total = 0;
      for (const socket of sockets.clients) total += socket.bufferedAmount;
      return total;
    },
    /** Closes every socket with 1012 (service restart, which clients retry) and stops the server. */
    async close(): Promise<void> {
      for (const socket of sockets.clients) socket.close(1012, 'service restart');
      await wsServer.dispose();
    },
  };
};
