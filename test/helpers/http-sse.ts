import { request, type IncomingMessage } from 'node:http';
import type { GraphQLResponse } from './graphql.js';
import { sseParser } from './sse.js';

export type HttpSse<T> = {
  /** Every `next` payload so far, in arrival order. */
  readonly payloads: GraphQLResponse<T>[];
  /** Stops reading: the socket fills up and the server has to hold or drop what it would send. */
  pause(): void;
  resume(): void;
  close(): void;
};

/**
 * A GraphQL subscription over SSE through a real socket (node:http), so a test can stop reading
 * and let TCP back-pressure reach the server, which a fetch-based reader cannot do reliably.
 */
export const openHttpSse = async <T = Record<string, any>>(
  base: string,
  query: string,
  variables: Record<string, unknown> = {},
  onPayload?: (payload: GraphQLResponse<T>) => void,
  headers: Record<string, string> = {},
): Promise<HttpSse<T>> => {
  const payloads: GraphQLResponse<T>[] = [];
  const url = new URL('/graphql', base);
  const body = JSON.stringify({ query, variables });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body), ...headers },
    });
    req.once('response', resolve).once('error', reject).end(body);
  });
  if (response.statusCode !== 200) throw new Error(`SSE request failed with status ${response.statusCode}`);
  response.setEncoding('utf8');
  const parse = sseParser();
  response.on('data', (chunk: string) => {
    for (const { event, data } of parse(chunk)) {
      if (event !== 'next' || !data) continue;
      const payload = JSON.parse(data) as GraphQLResponse<T>;
      payloads.push(payload);
      onPayload?.(payload);
    }
  });
  response.on('error', () => undefined); // closing mid-stream is how these end
  return {
    payloads,
    pause: () => void response.pause(),
    resume: () => void response.resume(),
    close: () => void response.destroy(),
  };
};
