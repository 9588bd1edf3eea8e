import { Socket } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeCursor } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { defaultTimeouts, sendAheadBytes } from '../../src/http/websocket.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { useApp, useHttpServer, useIsolatedDatabase } from '../helpers/app.js';
import type { GraphQLResponse } from '../helpers/graphql.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { introduce } from '../helpers/introduce.js';
import { waitFor, within } from '../helpers/wait.js';

// Floods its database with 50,000 events, so it has one of its own.
const subscriberBuffer = 1_000;
const app = await useApp({ databaseUrl: await useIsolatedDatabase(), subscriberBuffer });
const { relay, store } = app.services;
// A stalled client answers no WebSocket ping: with the default heartbeat (12 s) the server ends its
// socket if the stall lasts two of them, and a slow machine took that long to send the healthy
// subscribers their 50,000 events. The heartbeat has tests of its own; here it waits out the test.
const { base, port, http } = await useHttpServer(app, { ...defaultTimeouts, webSocketPingMs: 600_000 });
// A second server on the same app whose heartbeat ends a stalled client's socket within seconds.
const beating = await useHttpServer(app, { ...defaultTimeouts, webSocketPingMs: 5_000 });
/** Listeners with no subscriber connected (the process managers). */
const idle = relay.listenerCount;
/** The previous test's subscribers leave asynchronously, once the server sees their sockets close. */
const noSubscribers = () => waitFor(() => relay.listenerCount === idle, 'the previous subscribers to leave');

type EventsPayload = { events: { id: string; position: string; data?: { n: number } } };

afterEach(() => vi.restoreAllMocks());

/** Appends `count` events of `aggregateType` in transactions of `perTransaction`, one stream each. */
const append = async (aggregateType: string, count: number, perTransaction: number, pad = '') => {
  for (let n = 0; n < count; n += perTransaction) {
    const size = Math.min(perTransaction, count - n);
    await store.transaction((session) =>
      session.appendToStream(
        { aggregateId: newId('fan'), aggregateType },
        Array.from({ length: size }, (_, i) => ({ type: 'Numbered', data: { n: n + i, pad } })),
        { expectedVersion: 0, metadata: { correlationId: 'cor', causationId: 'cmd' }, occurredAt: new Date() },
      ),
    );
  }
};

/** The whole log of one aggregate type, read back from the table. */
const logOf = async (aggregateType: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readLog({ aggregateType, types: ['Numbered'], limit: 5_000, ...(events.length > 0 && { after: events.at(-1)!.logPosition }) });
    events.push(...page);
    if (page.length < 5_000) return events;
  }
};

const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
};

/** A graphql-ws subscriber collecting payloads. */
const openWs = (query: string, variables: Record<string, unknown>) => openWsWith(WebSocket, query, variables);

const openWsWith = (webSocketImpl: unknown, query: string, variables: Record<string, unknown>, on = port) => {
  const client = createClient({ url: `ws://127.0.0.1:${on}/graphql`, webSocketImpl, retryAttempts: 0 });
  const payloads: GraphQLResponse<EventsPayload>[] = [];
  const unsubscribe = client.subscribe<EventsPayload>(
    { query, variables },
    { next: (payload) => void payloads.push(payload as GraphQLResponse<EventsPayload>), error: () => undefined, complete: () => undefined },
  );
  onTestFinished(async () => {
    unsubscribe();
    await client.dispose();
  });
  return payloads;
};

/** A graphql-ws subscriber whose client stops reading its socket (and so the server's) on `pause`. */
const openPausableWs = (query: string, variables: Record<string, unknown>, on = port) => {
  let socket: WebSocket | undefined;
  let closed!: (code: number) => void;
  const closeCode = new Promise<number>((resolve) => (closed = resolve));
  class Tapped extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      socket = this;
      this.once('close', (code) => closed(code));
    }
  }
  const payloads = openWsWith(Tapped, query, variables, on);
  const tcp = () => (socket as unknown as { _socket: import('node:net').Socket })._socket;
  return { payloads, pause: () => tcp().pause(), resume: () => tcp().resume(), closeCode };
};

const sse = async (query: string, variables: Record<string, unknown>) => {
  const subscription = await openHttpSse<EventsPayload>(base, query, variables);
  onTestFinished(() => subscription.close());
  return subscription;
};

const withData = `subscription ($t: String) {
  events(aggregateType: $t) { id position ... on UntypedEvent { data } }
}`;
const idsOnly = `subscription ($t: String) { events(aggregateType: $t) { id position } }`;

/** Counts the server's writes to its clients' sockets (HTTP responses and WebSockets) until `stop`. */
const serverWrites = () => {
  const write = Socket.prototype.write;
  let writes = 0;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (this.localPort === port) writes += 1;
    return (write as (...all: unknown[]) => boolean).apply(this, args);
  } as typeof write;
  onTestFinished(() => void (Socket.prototype.write = write));
  return { count: () => writes, stop: () => void (Socket.prototype.write = write) };
};

describe('fan-out to many subscribers', () => {
  it('executes and serialises each event once per distinct operation, however many subscribe to it', async () => {
    const t = `Fan_${newId('t').slice(2, 12)}`;
    await introduce(store, t);
    await relay.settle(); // subscriptions from now start after the introduction
    await noSubscribers();
    const same = [
      ...(await Promise.all([1, 2, 3, 4].map(() => sse(withData, { t })))).map((subscription) => subscription.payloads),
      openWs(withData, { t }),
      openWs(withData, { t }),
    ];
    const other = (await sse(idsOnly, { t })).payloads;
    await waitFor(() => relay.listenerCount === idle + 7, 'all seven subscribers to listen');
    const executed = await metric('cairn_subscription_results_executed_total');
    const delivered = await metric('cairn_subscription_results_delivered_total');
    // Every JSON.stringify of a result of ours, wherever it happens (yoga's SSE writer, graphql-ws).
    const stringify = vi.spyOn(JSON, 'stringify');
    const ourResults = () =>
      stringify.mock.calls.filter(([value]) => (value as GraphQLResponse<EventsPayload> | null)?.data?.events?.id !== undefined).length;

    await append(t, 20, 2);
    await waitFor(() => [...same, other].every((payloads) => payloads.length === 20), 'every subscriber to get 20 events');

    const log = await logOf(t);
    for (const payloads of same) {
      expect(payloads.map((payload) => payload.data?.events.id)).toEqual(log.map((event) => event.id));
      expect(payloads).toEqual(same[0]);
    }
    expect(other.map((payload) => payload.data?.events.id)).toEqual(log.map((event) => event.id));
    // Two distinct operations: 40 executions and 40 serialisations for 140 deliveries.
    expect((await metric('cairn_subscription_results_executed_total')) - executed).toBe(40);
    expect((await metric('cairn_subscription_results_delivered_total')) - delivered).toBe(140);
    expect(ourResults()).toBe(40);
  });

  it('compiles a subscription operation once and gives each event the result the document asks for', async () => {
    const t = `Fan_${newId('t').slice(2, 12)}`;
    await introduce(store, t);
    await relay.settle(); // subscriptions from now start after the introduction
    await noSubscribers();
    const query = `subscription Mixed($t: String, $withData: Boolean!) {
      events(aggregateType: $t) { __typename ident: id position ... on UntypedEvent { data @include(if: $withData) } ...Meta }
    }
    fragment Meta on Event { version type metadata occurredAt }`;
    const compiled = await metric('cairn_subscription_operations_compiled_total');
    const withData = (await sse(query, { t, withData: true })).payloads as unknown as GraphQLResponse<{ events: Record<string, unknown> }>[];
    const without = openWs(query, { t, withData: false }) as unknown as GraphQLResponse<{ events: Record<string, unknown> }>[];
    await waitFor(() => relay.listenerCount === idle + 2, 'both subscribers to listen');

    await append(t, 6, 3);
    await waitFor(() => withData.length === 6 && without.length === 6, 'both subscribers to get 6 events');
    const expected = (event: RecordedEvent, data: boolean) => ({
      data: {
        events: {
          __typename: 'UntypedEvent',
          ident: event.id,
          position: encodeCursor(event.logPosition),
          ...(data && { data: event.data }),
          version: event.version,
          type: event.type,
          metadata: event.metadata,
          occurredAt: event.occurredAt.toISOString(),
        },
      },
    });
    const log = await logOf(t);
    expect(withData).toEqual(log.map((event) => expected(event, true)));
    expect(without).toEqual(log.map((event) => expected(event, false)));
    // One document over both transports, with two variable sets: compiled once, not once per event.
    expect((await metric('cairn_subscription_operations_compiled_total')) - compiled).toBe(1);
  });

  it('hands SSE and graphql-ws subscribers their events a page at a time: every event once, in order, a failing one masked in its place', async () => {
    const t = `Fan_${newId('t').slice(2, 12)}`;
    await introduce(store, t);
    await append(t, 1_000, 250);
    // An event whose typed payload cannot be served: its amount is no decimal, and serialising it throws.
    await store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('fan'), aggregateType: t }, [{ type: 'TransactionCreated', data: { currency: 'EUR', amount: { not: 'a decimal' } } }], {
        expectedVersion: 0,
        metadata: { correlationId: 'cor', causationId: 'cmd' },
        occurredAt: new Date(),
      }),
    );
    await append(t, 10, 10);
    await relay.settle();
    await noSubscribers();
    const log = await store.readLog({ aggregateType: t, limit: 5_000 });
    expect(log).toHaveLength(1 + 1_000 + 1 + 10);
    const query = `subscription ($t: String) { events(aggregateType: $t, fromStart: true) { id position ... on TransactionCreated { amount } } }`;
    type Payload = GraphQLResponse<{ events: { id: string; position: string } }>;
    const check = (payloads: readonly Payload[]) => {
      expect(payloads.map((payload) => payload.data?.events.id ?? 'failed')).toEqual(log.map((event) => (event.type === 'TransactionCreated' ? 'failed' : event.id)));
      const failed = payloads.find((payload) => payload.errors);
      expect(failed?.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(failed)).not.toContain('decimal');
    };

    // Three pages read from the table (500, 500, 12 events), the failing result on its own: a few
    // steps per subscriber, not one per event, over either transport.
    for (const open of [async () => (await sse(query, { t })).payloads, async () => openWs(query, { t })]) {
      const pages = await metric('cairn_subscription_pages_total');
      const writes = serverWrites();
      const payloads = (await open()) as unknown as Payload[];
      await waitFor(() => payloads.length === log.length, `the subscriber to get ${log.length} results`);
      writes.stop();
      check(payloads);
      const taken = (await metric('cairn_subscription_pages_total')) - pages;
      expect(taken).toBeGreaterThanOrEqual(3);
      expect(taken).toBeLessThanOrEqual(6);
      // A page leaves in one write (graphql-ws: its messages framed together), not one per event.
      expect(writes.count()).toBeLessThan(50);
    }
  });

  it('keeps stalled subscribers (SSE and graphql-ws) from holding memory or the others back while 50,000 events flow', async () => {
    const t = `Stall_${newId('t').slice(2, 12)}`;
    const events = 50_000;
    await introduce(store, t);
    await relay.settle(); // subscriptions from now start after the introduction
    await noSubscribers();
    const overflowsBefore = relay.overflows;
    // Each selects the events' 1 kB payloads and stops reading at once: 50 MB no socket buffer absorbs.
    const stalled = await sse(withData, { t });
    stalled.pause();
    const stalledWs = openPausableWs(withData, { t });
    const healthy = [(await sse(idsOnly, { t })).payloads, (await sse(idsOnly, { t })).payloads, openWs(idsOnly, { t })];
    await waitFor(() => relay.listenerCount === idle + 5, 'all five subscribers to listen');
    stalledWs.pause();

    let mostBuffered = 0;
    let mostUnsent = 0;
    const sampler = setInterval(() => {
      mostBuffered = Math.max(mostBuffered, relay.bufferedEvents);
      mostUnsent = Math.max(mostUnsent, http.webSocketBufferedBytes());
    }, 5);
    try {
      await append(t, events, 500, 'x'.repeat(1_000));
      await waitFor(() => healthy.every((payloads) => payloads.length === events), 'the healthy subscribers', 120_000);
    } finally {
      clearInterval(sampler);
    }

    const log = (await logOf(t)).map((event) => event.id);
    expect(log).toHaveLength(events);
    for (const payloads of healthy) expect(payloads.map((payload) => payload.data?.events.id)).toEqual(log);
    // The stalled subscribers fell behind and went back to the table instead of buffering 50,000 events.
    expect(stalled.payloads.length).toBeLessThan(events);
    expect(stalledWs.payloads.length).toBeLessThan(events);
    expect(relay.overflows).toBeGreaterThan(overflowsBefore);
    // Each subscriber holds at most its buffer plus the batch in hand…
    expect(mostBuffered).toBeGreaterThan(0);
    expect(mostBuffered).toBeLessThanOrEqual(5 * 2 * subscriberBuffer);
    // …and each WebSocket at most its send-ahead bytes and one message (a 1 kB event's is under 2 kB).
    expect(mostUnsent).toBeGreaterThan(0);
    expect(mostUnsent).toBeLessThanOrEqual(2 * (sendAheadBytes + 2_048));

    // Reading again, they get every event, in order, once: the table fills in what they dropped.
    stalled.resume();
    stalledWs.resume();
    await waitFor(() => stalled.payloads.length >= events && stalledWs.payloads.length >= events, 'the stalled subscribers to catch up', 120_000);
    for (const payloads of [stalled.payloads, stalledWs.payloads]) {
      expect(payloads.map((payload) => payload.data?.events.id)).toEqual(log);
      expect(payloads.map((payload) => payload.data?.events.data?.n)).toEqual(log.map((_, n) => n));
    }
  }, 180_000);

  it('releases the subscription of a stalled graphql-ws client once the heartbeat ends its socket', async () => {
    const t = `Gone_${newId('t').slice(2, 12)}`;
    await introduce(store, t);
    await relay.settle(); // subscriptions from now start after the introduction
    await noSubscribers();
    const gone = openPausableWs(withData, { t }, beating.port);
    await waitFor(() => relay.listenerCount === idle + 1, 'the subscriber to listen');
    // It stops reading while 5 MB of events come: more than its socket holds, so the server is
    // left waiting on a write when its heartbeat gives up on the silent client.
    gone.pause();
    let mostUnsent = 0;
    const sampler = setInterval(() => (mostUnsent = Math.max(mostUnsent, beating.http.webSocketBufferedBytes())), 5);
    try {
      await append(t, 5_000, 500, 'x'.repeat(1_000));
      // The heartbeat gives up 5-10 s after the client went silent.
      await waitFor(() => relay.listenerCount === idle, "the ended socket's subscription to leave the relay", 30_000);
    } finally {
      clearInterval(sampler);
    }
    expect(mostUnsent).toBeGreaterThanOrEqual(sendAheadBytes); // the server had been waiting on a write
    expect(relay.bufferedEvents).toBe(0);
    // Reading again, the client finds its socket ended under it (no close frame: it did not answer).
    gone.resume();
    expect(await within(gone.closeCode, 'the client to see its socket ended')).toBe(1006);
  });
});
