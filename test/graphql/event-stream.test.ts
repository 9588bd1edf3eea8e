import { GraphQLError, type ExecutionResult } from 'graphql';
import { getSSEProcessor } from 'graphql-yoga';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { resultPage } from '../../src/graphql/shared-results.js';
import { eventStream } from '../../src/http/event-stream.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { sseParser } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

const app = await useApp({ relayPollMs: 100 });
const { relay, store } = app.services;

const subscription = `subscription ($id: ID!) { events(aggregateId: $id) { id position } }`;

/** Appends `count` events to a new stream of `aggregateId`, in one transaction. */
const appendNumbered = (aggregateId: string, count: number) =>
  store.transaction((session) =>
    session.appendToStream(
      { aggregateId, aggregateType: 'Chunked' },
      Array.from({ length: count }, (_, n) => ({ type: 'Numbered', data: { n } })),
      { expectedVersion: 0, metadata: { correlationId: 'cor', causationId: 'cmd' }, occurredAt: new Date() },
    ),
  );

/** Opens an SSE subscription through yoga and returns its body's chunks as they come, decoded. */
const openStream = async (aggregateId: string) => {
  const listening = relay.listenerCount;
  const hangUp = new AbortController();
  const response = await app.yoga.fetch('http://cairn.test/graphql', {
    method: 'POST',
    signal: hangUp.signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: subscription, variables: { id: aggregateId } }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  const raw: Uint8Array[] = [];
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      raw.push(value);
      chunks.push(decoder.decode(value));
    }
  })();
  // The subscription listens once yoga pulls its first result.
  await waitFor(() => relay.listenerCount > listening, 'the subscription to listen').catch((error: unknown) => {
    throw new Error(`${String(error)}: ${JSON.stringify(chunks)}`);
  });
  return {
    chunks,
    raw,
    /** The chunks read by the time `events` `next` blocks have come. */
    until: (events: number) =>
      waitFor(() => {
        const parse = sseParser();
        const seen = chunks.flatMap((chunk) => parse(chunk)).filter((event) => event.event === 'next').length;
        return seen >= events && chunks;
      }, `${events} events`),
    close: async () => {
      hangUp.abort();
      await reading.catch(() => undefined);
    },
  };
};

describe('SSE subscriptions', () => {
  it('writes the events of one commit in one chunk, not one per event', async () => {
    const aggregateId = newId('chk');
    const stream = await openStream(aggregateId);
    try {
      await appendNumbered(aggregateId, 10);
      const chunks = await stream.until(10);
      const withEvents = chunks.filter((chunk) => chunk.includes('event: next'));
      expect(withEvents).toHaveLength(1);
      const blocks = sseParser()(withEvents[0]!);
      expect(blocks.map((block) => block.event)).toEqual(Array(10).fill('next'));
      const positions = blocks.map((block) => (JSON.parse(block.data) as { data: { events: { position: string } } }).data.events.position);
      expect(new Set(positions).size).toBe(10);
    } finally {
      await stream.close();
    }
  });

  it('sends identical subscriptions the very same bytes, made once', async () => {
    const aggregateId = newId('chk');
    const streams = [await openStream(aggregateId), await openStream(aggregateId), await openStream(aggregateId)];
    try {
      await appendNumbered(aggregateId, 5);
      for (const stream of streams) await stream.until(5);
      const withEvents = streams.map((stream) => stream.raw.filter((chunk) => Buffer.from(chunk).includes('event: next')));
      for (const chunks of withEvents) expect(chunks).toHaveLength(1);
      expect(withEvents[1]![0]).toBe(withEvents[0]![0]);
      expect(withEvents[2]![0]).toBe(withEvents[0]![0]);
    } finally {
      for (const stream of streams) await stream.close();
    }
  });
});

describe('a subscription that fails', () => {
  it('tells the client with a masked error and an end, lets go of the relay, and the server lives on', async () => {
    const { base } = await useHttpServer(app);
    // Something to catch up on, so the subscription reads the table first: that read fails.
    await appendNumbered(newId('chk'), 1);
    vi.spyOn(app.services.read, 'readerAt').mockRejectedValueOnce(new Error('the replica went away'));
    onTestFinished(() => void vi.restoreAllMocks());
    const listening = relay.listenerCount;
    const body = JSON.stringify({ query: 'subscription { events(fromStart: true) { id } }' });
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) },
      });
      req.once('error', reject).once('response', (response) => {
        expect(response.statusCode).toBe(200);
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.once('error', reject).once('end', () => resolve(text));
      });
      req.end(body);
    });
    // envelop turns the failure into a result (masked, with a code) and an end.
    expect(received).toBe(
      ':\n\nevent: next\ndata: {"errors":[{"message":"Unexpected error.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}\n\nevent: complete\ndata:\n\n',
    );
    await waitFor(() => relay.listenerCount === listening, 'the subscription to let go of the relay');
    // The server is still there.
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
  });
});

describe('eventStream', () => {
  const fetchAPI = app.yoga.fetchAPI as unknown as Parameters<typeof eventStream>[1];

  /** The whole body as text, read as a client reads it. */
  const text = async (response: Response): Promise<string> => {
    let all = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) all += Buffer.from(chunk).toString();
    return all;
  };

  const results = (): ExecutionResult[] => [
    { data: { events: { id: 'evt_1', position: 'cA' } } },
    // An operation's error, with the internals yoga strips before sending.
    {
      data: null,
      errors: [new GraphQLError('no such aggregate', { path: ['events'], extensions: { code: 'NOT_FOUND', http: { status: 404 }, unexpected: true } })],
      extensions: { http: { status: 404 }, cost: 3 },
    },
    { data: { events: { id: 'evt_2', position: 'cB' } } },
  ];

  async function* finite(values: readonly ExecutionResult[]) {
    yield* values;
  }

  it('writes the bytes yoga writes for the same results', async () => {
    const ours = await text(eventStream(finite(results()), fetchAPI));
    const yogas = await text(await getSSEProcessor()(finite(results()), app.yoga.fetchAPI, 'text/event-stream'));
    expect(ours).toBe(yogas);
    expect(ours).toContain('"extensions":{"code":"NOT_FOUND"}');
    expect(ours.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('writes a page of results as one chunk, the same bytes for every stream sending that page, however its turns group them', async () => {
    const [one, failed, two] = results();
    const first = resultPage([one!, two!]);
    const second = resultPage([{ data: { events: { id: 'evt_3', position: 'cC' } } }]);
    /** The chunks the body was handed, as pushed (a reader may get them joined). */
    const chunksOf = async (response: Response) => {
      const push = vi.spyOn(Readable.prototype, 'push');
      try {
        const all = await text(response);
        // The body is the stream whose first push is the opening comment (the app's sockets push too).
        const calls = push.mock.calls.map(([chunk], n) => ({ chunk, stream: push.mock.contexts[n] }));
        const body = calls.find(({ chunk }) => Buffer.isBuffer(chunk) && chunk.toString().startsWith(':\n\n'))?.stream;
        const pushed = calls.filter(({ stream, chunk }) => stream === body && Buffer.isBuffer(chunk)).map(({ chunk }) => chunk as Buffer);
        expect(Buffer.concat(pushed).toString()).toBe(all);
        return pushed;
      } finally {
        push.mockRestore();
      }
    };
    // One stream takes both pages in one turn, the other a failing result in between.
    const together = await chunksOf(eventStream(finite([first, second]), fetchAPI));
    const apart = await chunksOf(eventStream(finite([first, failed!, second]), fetchAPI));
    const pageChunks = (chunks: Buffer[]) => chunks.filter((chunk) => chunk.includes('evt_1') || chunk.includes('evt_3'));
    expect(pageChunks(together)).toHaveLength(2);
    expect(pageChunks(apart)[0]).toBe(pageChunks(together)[0]);
    expect(pageChunks(apart)[1]).toBe(pageChunks(together)[1]);
    // As yoga writes the same results one by one.
    const yogas = await text(await getSSEProcessor()(finite([one!, two!, { data: { events: { id: 'evt_3', position: 'cC' } } }]), app.yoga.fetchAPI, 'text/event-stream'));
    expect(Buffer.concat(together).toString()).toBe(yogas);
    expect(Buffer.concat(apart).toString()).toContain('no such aggregate');
  });

  it('pulls only while its reader reads, and lets go of the subscription when the client leaves', async () => {
    let pulls = 0;
    let returned = false;
    const endless: AsyncIterable<ExecutionResult> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: { data: { n: ++pulls, pad: 'x'.repeat(1_000) } } }),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const hangUp = new AbortController();
    const response = eventStream(endless, fetchAPI, { signal: hangUp.signal });
    const reader = response.body!.getReader();
    await reader.read();
    // Unread, the body fills to its high-water mark and the pulls stop there.
    await waitFor(async () => {
      const before = pulls;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return pulls > 0 && pulls === before;
    }, 'the pulls to stop');
    const stalledAt = pulls;
    expect(stalledAt).toBeLessThan(100);
    // Reading again lets them go on.
    for (let read = 0; read < 5; read += 1) await reader.read();
    await waitFor(() => pulls > stalledAt, 'the pulls to go on');
    hangUp.abort();
    await waitFor(() => returned, 'the iterator to be returned');
  });

  it('ends the body without `complete` when its iterator throws, so the client resumes, and raises no error event', async () => {
    async function* failing() {
      yield { data: { n: 1 } };
      throw new Error('lost the database');
    }
    const response = eventStream(failing(), fetchAPI);
    // Piped into a response, nothing listens for errors on the body: one would end the process.
    const body = response.body as unknown as Readable;
    const errors: unknown[] = [];
    body.on('error', (error) => errors.push(error));
    const all = await text(response);
    expect(all).toBe(':\n\nevent: next\ndata: {"data":{"n":1}}\n\n');
    expect(errors).toEqual([]);
  });
});
