import type { GraphQLServer } from '../../src/server.js';
import { sseParser } from './sse.js';

export type GraphQLResponse<T = Record<string, any>> = {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** Runs an operation through yoga.fetch, in process. */
export const execute = async <T = Record<string, any>>(
  yoga: GraphQLServer,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  operationName?: string,
): Promise<GraphQLResponse<T>> => {
  const response = await yoga.fetch('http://cairn.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables, ...(operationName && { operationName }) }),
  });
  return (await response.json()) as GraphQLResponse<T>;
};

export type SseSubscription<T> = {
  /** Resolves with the next `n` payloads. */
  take(n: number): Promise<GraphQLResponse<T>[]>;
  close(): Promise<void>;
};

/** A GraphQL subscription over SSE through yoga.fetch, read event by event. */
export const subscribeSse = async <T = Record<string, any>>(
  yoga: GraphQLServer,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<SseSubscription<T>> => {
  const abort = new AbortController();
  const response = await yoga.fetch('http://cairn.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  if (!response.body) throw new Error(`no SSE body (status ${response.status})`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parse = sseParser();
  const pending: GraphQLResponse<T>[] = [];

  const readMore = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) return false;
    for (const { event, data } of parse(decoder.decode(value, { stream: true }))) {
      if (event === 'next' && data) pending.push(JSON.parse(data) as GraphQLResponse<T>);
    }
    return true;
  };

  return {
    async take(n) {
      while (pending.length < n) {
        if (!(await readMore())) throw new Error(`stream ended after ${pending.length} of ${n} events`);
      }
      return pending.splice(0, n);
    },
    async close() {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
};
