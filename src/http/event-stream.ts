import { Readable } from 'node:stream';
import type { ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { pageResults, sharedJson } from '../graphql/shared-results.js';
import type { Logger } from '../logger.js';

/** How often an event stream sends a comment, so that proxies keep it open (yoga's interval). */
const defaultEventStreamPingMs = 12_000;

const headers = {
  'Content-Type': 'text/event-stream',
  Connection: 'keep-alive',
  'Cache-Control': 'no-cache',
  'Content-Encoding': 'none',
};

type FetchAPI = { readonly Response: new (body: Readable, init: { status: number; headers: Record<string, string> }) => Response };

/** An error as the client sees it: without yoga's internal `http` and `unexpected` extensions. */
const publicError = (error: GraphQLError): unknown => {
  const json = typeof error.toJSON === 'function' ? error.toJSON() : error;
  if (!json.extensions || (!('http' in json.extensions) && !('unexpected' in json.extensions))) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
};

/** A result's JSON as yoga writes it: a shared result's made once for all its subscribers, internals left out. */
const resultJson = (result: ExecutionResult): string => {
  if (!result.errors?.length && !result.extensions?.http) return sharedJson(result) ?? JSON.stringify(result);
  const { http: _http, ...extensions } = result.extensions ?? {};
  return JSON.stringify({
    ...result,
    ...(result.errors && { errors: result.errors.map(publicError) }),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  });
};

/**
 * Bytes made once for results that many subscribers send alike, kept with the first result:
 * identical subscriptions are handed the very same result objects (see SharedResults), in the
 * same pages (a relay batch is cut into pages the same way for each of them), so a thousand of
 * them send one buffer, made once, rather than a thousand copies of the same text. A run of
 * results is known by its first and last result and their count: subscribers of one operation
 * get its events in log order with no gap, so those three fix everything in between.
 */
const madeBytes = new WeakMap<object, { readonly last: object; readonly count: number; readonly bytes: Buffer }>();

const sharedBytes = (results: readonly ExecutionResult[], text: () => string): Buffer => {
  const first = results[0]!;
  const last = results.at(-1)!;
  const made = madeBytes.get(first);
  if (made && made.last === last && made.count === results.length) return made.bytes;
  const bytes = Buffer.from(text());
  madeBytes.set(first, { last, count: results.length, bytes });
  return bytes;
};

const nextEvent = (result: ExecutionResult) => `event: next\ndata: ${resultJson(result)}\n\n`;

/** A page of results as one chunk, shared by every subscriber sending the same page. */
const pageBytes = (results: readonly ExecutionResult[]): Buffer => sharedBytes(results, () => results.map(nextEvent).join(''));

/**
 * A subscription's results as a `text/event-stream` body (graphql-sse's distinct connections mode,
 * the bytes yoga writes), with everything its iterator hands over within one turn of the event
 * loop pushed together: a page of results as one chunk of its own (see `pageBytes`), single
 * results and comments as the turn's text.
 *
 * yoga's own writer pulls each result through a web `ReadableStream` (a Node stream behind a
 * ponyfill) and encodes two buffers per event: per subscriber per event, a stream pull, promise
 * helpers and buffers, most of a fanning-out server's CPU and garbage. Here a page becomes one
 * buffer (shared by the streams sending it) and a single result a string appended to the turn's
 * text, and they go out once, when the loop turns (a relay batch, up to `eventsPerTurn` events). The iterator is pulled only while the client reads:
 * a body the socket cannot take stops the pulls, and the relay's per-subscriber buffer (then the
 * table) holds the rest, as with yoga's.
 */
export const eventStream = (
  result: AsyncIterable<ExecutionResult>,
  fetchAPI: FetchAPI,
  { signal, pingMs = defaultEventStreamPingMs, logger }: { readonly signal?: AbortSignal; readonly pingMs?: number; readonly logger?: Logger } = {},
): Response => {
  const iterator = result[Symbol.asyncIterator]();
  let text = ':\n\n'; // a comment first: some browsers show nothing until the body starts
  let results: ExecutionResult[] = []; // those the text holds
  let onlyResults = false; // and nothing else (no comment, no end)
  let chunks: Buffer[] = []; // made before the text, to go out before it: pages, and earlier text
  let chunked = 0; // their bytes
  let flushing = false;
  let pumping = false;
  let full = false; // the body refused more: wait for its `read`
  let ended = false;
  let ping: NodeJS.Timeout | undefined;

  const finish = () => {
    ended = true;
    clearInterval(ping);
  };
  /** Ends the body after what is queued (the flush was scheduled first). */
  const end = () => setImmediate(() => body.destroyed || body.push(null));
  const body = new Readable({
    read() {
      full = false;
      void pump();
    },
    destroy(error, callback) {
      const wasEnded = ended;
      finish();
      if (wasEnded) return callback(error);
      Promise.resolve(iterator.return?.())
        .catch(() => undefined)
        .finally(() => callback(error));
    },
  });
  const addChunk = (bytes: Buffer) => {
    chunks.push(bytes);
    chunked += bytes.length;
  };
  /** The text so far as a chunk: the bytes identical subscriptions share when it holds results only. */
  const takeText = () => {
    if (text === '') return;
    addChunk(onlyResults && results.length > 0 ? sharedBytes(results, () => text) : Buffer.from(text));
    text = '';
    results = [];
    onlyResults = true;
  };
  const flush = () => {
    flushing = false;
    takeText();
    if (chunks.length === 0 || body.destroyed) return;
    const out = chunks;
    chunks = [];
    chunked = 0;
    let more = true;
    for (const chunk of out) more = body.push(chunk) && more;
    if (more) void pump(); // when it stopped for a full turn's worth
    else full = true;
  };
  const schedule = () => {
    if (flushing) return;
    flushing = true;
    setImmediate(flush);
  };
  const queue = (more: string, result?: ExecutionResult) => {
    text += more;
    if (result) results.push(result);
    else onlyResults = false;
    schedule();
  };
  const queuePage = (page: readonly ExecutionResult[]) => {
    takeText();
    addChunk(pageBytes(page));
    schedule();
  };
  const pump = async () => {
    if (pumping || ended) return;
    pumping = true;
    try {
      // A client that stops reading stops the pulls once its body holds a high-water mark's worth
      // (the body's `push` says so, and its `read` asks for more). A turn's text is bounded too,
      // so an iterator that never waits cannot keep the event loop from turning.
      while (!ended && !full && text.length + chunked < body.readableHighWaterMark) {
        const step = await iterator.next();
        if (ended) return;
        if (step.value != null) {
          const page = pageResults(step.value);
          if (page) queuePage(page);
          else queue(nextEvent(step.value), step.value);
        }
        if (step.done) {
          finish();
          queue('event: complete\ndata:\n\n');
          end();
          return;
        }
      }
    } catch (error) {
      // envelop turns a failing subscription into an error result and an end; should a failure
      // get here anyway, the stream ends without `complete`, which clients read as a lost
      // connection and resume from their cursor. (An `error` event on the body would be uncaught:
      // nothing listens to a body piped into a response, and the process would go down.)
      logger?.error('an event stream failed; it ends without complete', { error });
      finish();
      end();
    } finally {
      pumping = false;
    }
  };

  ping = setInterval(() => {
    if (!ended && !full && text === '' && chunks.length === 0) queue(':\n\n');
  }, pingMs);
  ping.unref();
  // The request's signal ends with its connection (and lets an in-process caller hang up).
  signal?.addEventListener('abort', () => body.destroy(), { once: true });
  queue('');
  return new fetchAPI.Response(body, { status: 200, headers: { ...headers } });
};

/** The media types a request accepts, without parameters. */
const accepted = (request: Request): string[] =>
  (request.headers.get('accept') ?? '')
    .split(',')
    .map((type) => type.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean);

/** Whether `eventStreams` writes this request's subscription (and so takes pages of results, see `ResultPage`). */
export const writesEventStream = (request: Request | undefined): boolean => {
  if (typeof request?.headers?.get !== 'function') return false;
  const types = accepted(request);
  return types.includes('text/event-stream') && !types.includes('multipart/mixed');
};

/**
 * Serves subscription results asked for as `text/event-stream` with `eventStream` instead of yoga's
 * writer; anything else (single results, multipart) stays with yoga. Listed after yoga's own
 * result processors, so its choice is the last word.
 */
export const eventStreams = ({ pingMs = defaultEventStreamPingMs, logger }: { readonly pingMs?: number; readonly logger?: Logger } = {}): Plugin => ({
  onResultProcess({ request, result, setResultProcessor }) {
    if (!isAsyncIterable(result) || !writesEventStream(request)) return;
    setResultProcessor(
      (value, fetchAPI) => eventStream(value as AsyncIterable<ExecutionResult>, fetchAPI as unknown as FetchAPI, { signal: request.signal, pingMs, ...(logger && { logger }) }),
      'text/event-stream',
    );
  },
});
