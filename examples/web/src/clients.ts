import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { cacheExchange, Client, fetchExchange, subscriptionExchange } from 'urql';

/**
 * cairn's /graphql: the page's own origin by default (the Vite server proxies it), or
 * VITE_CAIRN_URL for a build served elsewhere.
 */
const httpUrl = new URL(import.meta.env.VITE_CAIRN_URL ?? '/graphql', location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

export type Clients = {
  /** Queries and mutations over HTTP, subscriptions over `ws`. */
  readonly urql: Client;
  /** One WebSocket for every subscription; it outlives server restarts. */
  readonly ws: WsClient;
};

/** Waits 100 ms, 200 ms, … up to 3 s between attempts to reach a server that is away. */
const backoff = (attempt: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(3_000, 100 * 2 ** attempt)));

/**
 * The app's clients. A token, when given, goes in the `authorization` header over HTTP and in
 * graphql-ws's `connectionParams`; without one cairn must run open (its development default).
 */
export const createClients = (token: string): Clients => {
  const authorization = token ? `Bearer ${token}` : undefined;
  const ws = createWsClient({
    url: wsUrl.toString(),
    connectionParams: authorization ? { authorization } : {},
    // A restarting server first closes with 1012, then refuses connections for a while: graphql-ws
    // gives up on a refused connection unless told to retry everything.
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: backoff,
  });
  const urql = new Client({
    url: httpUrl.toString(),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
    fetchOptions: () => (authorization ? { headers: { authorization } } : {}),
    // POST with a JSON body for queries too: a server with CSRF prevention refuses a bare GET.
    preferGetMethod: false,
  });
  return { urql, ws };
};
