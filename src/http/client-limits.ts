import type { IncomingMessage } from 'node:http';

/** How many long-lived connections one client may hold, and how many subscriptions one WebSocket may carry. */
export type ClientLimits = {
  /** SSE streams and WebSockets open at once from one client address (`CAIRN_MAX_CONNECTIONS_PER_CLIENT`). */
  readonly maxConnectionsPerClient: number;
  /** Subscriptions open at once on one graphql-ws connection (`CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION`). */
  readonly maxSubscriptionsPerConnection: number;
};

export const defaultClientLimits: ClientLimits = { maxConnectionsPerClient: 200, maxSubscriptionsPerConnection: 100 };

/**
 * Counts each client address's open SSE streams and WebSockets. Behind a reverse proxy every
 * client has the proxy's address: raise the limit there (the proxy should bound its clients).
 */
export const connectionsPerClient = (max: number) => {
  const open = new Map<string, number>();
  return {
    /** Takes a place for the request's client; false when it holds `max` already. `release` gives it back once. */
    admit(req: IncomingMessage): { readonly admitted: boolean; release(): void } {
      const address = req.socket.remoteAddress ?? 'unknown';
      const count = open.get(address) ?? 0;
      if (count >= max) return { admitted: false, release: () => undefined };
      open.set(address, count + 1);
      let released = false;
      return {
        admitted: true,
        release: () => {
          if (released) return;
          released = true;
          const left = (open.get(address) ?? 1) - 1;
          if (left === 0) open.delete(address);
          else open.set(address, left);
        },
      };
    },
  };
};

export const tooManyConnections = (max: number) => ({
  errors: [
    {
      message: `This client holds ${max} subscriptions' connections already; close one first.`,
      extensions: { code: 'TOO_MANY_CONNECTIONS' },
    },
  ],
});
