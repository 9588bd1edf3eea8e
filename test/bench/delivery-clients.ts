/**
 * The subscriber side of the delivery bench (test/bench/delivery.ts), forked as a child process
 * so that clients and the server they measure do not share an event loop. The parent drives it
 * over IPC: open N identical subscriptions, hand over commit acknowledgements, collect a report.
 *
 * Clock: receipts are stamped with `performance.timeOrigin + performance.now()` (the wall clock
 * at sub-millisecond resolution) once per socket chunk; the parent converts its commit times
 * into this process's clock with an offset it measures by ping-pong before each figure.
 *
 * Clients are deliberately thin: SSE over node:http with a hand-rolled `text/event-stream`
 * parser, graphql-ws as the bare protocol on `ws` (connection_init, subscribe, next), and a
 * per-cell cache of parsed payloads (identical subscriptions receive identical JSON), so that
 * the server, not the clients, is what the bench saturates first.
 */
import { request, type IncomingMessage } from 'node:http';
import { build, type Histogram } from 'hdr-histogram-js';
import WebSocket from 'ws';

export type Transport = 'sse' | 'ws';

/** Messages from the bench to this process. Commit times are in this process's clock. */
export type ToClients =
  | { readonly type: 'ping' }
  | {
      readonly type: 'open';
      readonly transport: Transport;
      readonly count: number;
      readonly base: string;
      readonly query: string;
      readonly variables: Record<string, unknown>;
    }
  /**
   * Starts the measured window: CPU and wall time are counted from here, and receipts after
   * `deadlineAt` (in this process's clock) do not count.
   */
  | { readonly type: 'mark'; readonly deadlineAt: number }
  | { readonly type: 'commits'; readonly commits: readonly (readonly [transactionId: string, at: number])[] }
  /** Waits until every client holds `events` events or the deadline passed, closes the clients, then reports. */
  | { readonly type: 'collect'; readonly events: number }
  | { readonly type: 'close' }
  | {
      readonly type: 'catch-up';
      readonly transport: Transport;
      readonly base: string;
      readonly query: string;
      readonly variables: Record<string, unknown>;
      readonly events: number;
      readonly deadlineMs: number;
    };

export type CellReport = {
  readonly clients: number;
  readonly expected: number;
  readonly delivered: number;
  /** Fewest events any one client received. */
  readonly slowest: number;
  /** Latency in ms, commit acknowledged → chunk received, over every delivery. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Deliveries whose commit acknowledgement never arrived (none expected), and a few of their transaction ids. */
  readonly unmatched: number;
  readonly unmatchedSample: readonly string[];
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly errors: number;
  readonly firstError?: string;
  /** From `mark` to the deadline (or to the last event, when all arrived before it), in ms. */
  readonly wallMs: number;
  /** This process's CPU time since `mark`, and the wall time it was spent in, in ms. */
  readonly cpuMs: number;
  readonly cpuWallMs: number;
  /** When the clients were closed (all events in, or the deadline), in this process's clock. */
  readonly closedAt: number;
};

export type CatchUpReport = {
  readonly received: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly errors: number;
  readonly firstError?: string;
  /** In this process's clock: request sent, first and last event received. */
  readonly startedAt: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly cpuMs: number;
};

export type FromClients =
  | { readonly type: 'pong'; readonly at: number }
  | { readonly type: 'opened'; readonly open: number }
  | { readonly type: 'collected'; readonly report: CellReport }
  | { readonly type: 'closed' }
  | { readonly type: 'caught-up'; readonly report: CatchUpReport }
  | { readonly type: 'failed'; readonly error: string };

const now = (): number => performance.timeOrigin + performance.now();

/** A delivered event: its writing transaction and position, decoded from its `position` cursor. */
type Delivered = { readonly transactionId: string; readonly tx: number; readonly position: number };
type Parsed = Delivered | { readonly error: string } | null;

/** One client's view of its stream: how much, and whether it stayed in order. */
class Stream {
  count = 0;
  private tx = -1;
  private position = -1;
  duplicates = 0;
  outOfOrder = 0;

  take(event: Delivered): void {
    this.count += 1;
    if (event.tx === this.tx && event.position === this.position) this.duplicates += 1;
    else if (event.tx < this.tx || (event.tx === this.tx && event.position < this.position)) this.outOfOrder += 1;
    else {
      this.tx = event.tx;
      this.position = event.position;
    }
  }
}

const cursor = (position: string): Delivered => {
  const [, tx, at] = Buffer.from(position, 'base64url').toString('latin1').split(':');
  return { transactionId: tx!, tx: Number(tx), position: Number(at) };
};

/** A GraphQL result `{ data: { events: { position } } }` or its errors. */
const parseResult = (result: { data?: { events?: { position?: string } }; errors?: { message: string }[] }): Parsed => {
  const position = result.data?.events?.position;
  if (position !== undefined) return cursor(position);
  return { error: result.errors?.[0]?.message ?? JSON.stringify(result).slice(0, 200) };
};

type Client = { readonly stream: Stream; readonly close: Close };
type Close = () => void;
type OnText = (text: string, at: number) => void;

/**
 * The loopback address client `index` connects from: every connection its own (127.1.x.y), as
 * separate frontends would be, so that a server's per-client connection limit sees many clients.
 */
export const clientAddress = (index: number): string => `127.1.${Math.floor(index / 250) % 250}.${(index % 250) + 1}`;

const openSse = (base: string, query: string, variables: Record<string, unknown>, onText: OnText, localAddress?: string): Promise<Close> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ query, variables });
    const req = request(new URL('/graphql', base), {
      method: 'POST',
      agent: false,
      ...(localAddress && { localAddress }),
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body) },
    });
    req.once('error', reject);
    req.once('response', (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume();
        return reject(new Error(`SSE request failed with status ${response.statusCode}`));
      }
      response.setEncoding('utf8');
      let text = '';
      response.on('data', (chunk: string) => {
        const at = now();
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          if (block.startsWith('event: next\n')) onText(block.slice(block.indexOf('data:') + 5), at);
        }
      });
      response.on('error', () => undefined); // closing mid-stream is how these end
      req.removeListener('error', reject);
      req.on('error', () => undefined);
      resolve(() => void req.destroy());
    });
    req.end(body);
  });

/** graphql-ws (`graphql-transport-ws`) as the bare protocol: the `next` message text goes to `onText`. */
const openWs = (base: string, query: string, variables: Record<string, unknown>, onText: OnText, localAddress?: string): Promise<Close> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', localAddress ? { localAddress } : {});
    let acknowledged = false;
    socket.once('error', reject);
    socket.once('close', (code) => reject(new Error(`graphql-ws socket closed (${code}) before connection_ack`)));
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data: Buffer) => {
      const at = now();
      const text = data.toString();
      if (text.startsWith('{"type":"ping"')) return socket.send(JSON.stringify({ type: 'pong' }));
      if (!acknowledged) {
        if ((JSON.parse(text) as { type?: string }).type !== 'connection_ack') return reject(new Error(`expected connection_ack, got ${text.slice(0, 200)}`));
        acknowledged = true;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        socket.removeListener('error', reject);
        socket.on('error', () => undefined);
        return resolve(() => socket.terminate());
      }
      onText(text, at);
    });
  });

const openTimeoutMs = 15_000;

const open = async (
  transport: Transport,
  base: string,
  query: string,
  variables: Record<string, unknown>,
  onText: OnText,
  localAddress?: string,
): Promise<Close> => {
  let timer: NodeJS.Timeout | undefined;
  const opening = transport === 'sse' ? openSse(base, query, variables, onText, localAddress) : openWs(base, query, variables, onText, localAddress);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${transport} subscription not open after ${openTimeoutMs} ms`)), openTimeoutMs);
  });
  try {
    return await Promise.race([opening, timeout]);
  } catch (error) {
    void opening.then((close) => close(), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

/** The GraphQL result inside a transport's message text: an SSE `data` field or a graphql-ws message. */
const parseText = (transport: Transport, text: string): Parsed => {
  const message = JSON.parse(text) as Record<string, any>;
  if (transport === 'sse') return parseResult(message);
  if (message.type === 'next') return parseResult(message.payload);
  if (message.type === 'error') return { error: JSON.stringify(message.payload).slice(0, 200) };
  return null; // `complete`
};

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One measured cell: N identical subscriptions and the latency of every delivery. */
class Cell {
  readonly clients: Client[] = [];
  /** Every client's stream, kept for the report after the clients are closed. */
  private readonly streams: Stream[] = [];
  private deadlineAt = Number.POSITIVE_INFINITY;
  private readonly parsed = new Map<string, Parsed>();
  private readonly committed = new Map<string, number>();
  private readonly waiting = new Map<string, number[]>();
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });
  private delivered = 0;
  private errors = 0;
  private firstError: string | undefined;
  private cpu = process.cpuUsage();
  private markedAt = now();

  constructor(private readonly transport: Transport) {}

  async open(count: number, base: string, query: string, variables: Record<string, unknown>): Promise<number> {
    const concurrency = 50;
    for (let from = 0; from < count; from += concurrency) {
      const opened = await Promise.allSettled(
        Array.from({ length: Math.min(concurrency, count - from) }, async (_, i): Promise<Client> => {
          const stream = new Stream();
          const close = await open(this.transport, base, query, variables, (text, at) => this.receive(stream, text, at), clientAddress(from + i));
          return { stream, close };
        }),
      );
      // Keep whatever did open, so that `close` ends it, then report the first failure.
      for (const result of opened) {
        if (result.status !== 'fulfilled') continue;
        this.clients.push(result.value);
        this.streams.push(result.value.stream);
      }
      const failure = opened.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    }
    return this.clients.length;
  }

  mark(deadlineAt: number): void {
    this.cpu = process.cpuUsage();
    this.markedAt = now();
    this.deadlineAt = deadlineAt;
  }

  commit(transactionId: string, at: number): void {
    this.committed.set(transactionId, at);
    const early = this.waiting.get(transactionId);
    if (!early) return;
    this.waiting.delete(transactionId);
    for (const receivedAt of early) this.record(receivedAt - at);
  }

  async collect(events: number): Promise<CellReport> {
    while (this.streams.some((stream) => stream.count < events) && now() < this.deadlineAt) await sleep(5);
    // A saturated server stops fanning out to closed sockets: close before anything else.
    this.close();
    const closedAt = now();
    const cpuWallMs = now() - this.markedAt;
    const usedMs = cpuMs(this.cpu);
    const wallMs = Math.min(now(), this.deadlineAt) - this.markedAt;
    let unmatched = 0;
    for (const early of this.waiting.values()) unmatched += early.length;
    const ms = (percentile: number) => this.histogram.getValueAtPercentile(percentile) / 1000;
    return {
      clients: this.streams.length,
      expected: events * this.streams.length,
      delivered: this.delivered,
      slowest: Math.min(...this.streams.map((stream) => stream.count)),
      p50: ms(50),
      p99: ms(99),
      p999: ms(99.9),
      max: this.histogram.maxValue / 1000,
      unmatched,
      unmatchedSample: [...this.waiting.keys()].slice(0, 5),
      duplicates: this.streams.reduce((sum, stream) => sum + stream.duplicates, 0),
      outOfOrder: this.streams.reduce((sum, stream) => sum + stream.outOfOrder, 0),
      errors: this.errors,
      ...(this.firstError !== undefined && { firstError: this.firstError }),
      wallMs,
      cpuMs: usedMs,
      cpuWallMs,
      closedAt,
    };
  }

  close(): void {
    for (const client of this.clients) client.close();
    this.clients.length = 0;
  }

  private receive(stream: Stream, text: string, at: number): void {
    if (at > this.deadlineAt) return;
    let parsed = this.parsed.get(text);
    if (parsed === undefined) {
      parsed = parseText(this.transport, text);
      this.parsed.set(text, parsed);
    }
    if (parsed === null) return;
    if ('error' in parsed) {
      this.errors += 1;
      this.firstError ??= parsed.error;
      return;
    }
    stream.take(parsed);
    this.delivered += 1;
    const committedAt = this.committed.get(parsed.transactionId);
    if (committedAt !== undefined) return this.record(at - committedAt);
    const early = this.waiting.get(parsed.transactionId);
    if (early) early.push(at);
    else this.waiting.set(parsed.transactionId, [at]);
  }

  /** A receipt stamped before the acknowledgement (clock offset, IPC) counts as 0, as in latency.ts. */
  private record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }
}

/** One subscriber from a cursor: how fast does it read the log back? No cache: every event differs. */
const catchUp = async (message: Extract<ToClients, { type: 'catch-up' }>): Promise<CatchUpReport> => {
  const cpu = process.cpuUsage();
  const stream = new Stream();
  let errors = 0;
  let firstError: string | undefined;
  let firstAt = Number.NaN;
  let lastAt = Number.NaN;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onText: OnText = (text, at) => {
    const parsed = parseText(message.transport, text);
    if (parsed === null) return;
    if ('error' in parsed) {
      errors += 1;
      firstError ??= parsed.error;
      return done();
    }
    if (stream.count === 0) firstAt = at;
    stream.take(parsed);
    lastAt = at;
    if (stream.count >= message.events) done();
  };
  const startedAt = now();
  const close = await open(message.transport, message.base, message.query, message.variables, onText);
  const timer = setTimeout(done, message.deadlineMs);
  await finished;
  clearTimeout(timer);
  close();
  return {
    received: stream.count,
    duplicates: stream.duplicates,
    outOfOrder: stream.outOfOrder,
    errors,
    ...(firstError !== undefined && { firstError }),
    startedAt,
    firstAt,
    lastAt,
    cpuMs: cpuMs(cpu),
  };
};

const serve = (send: (message: FromClients) => void) => {
  let cell: Cell | undefined;
  const handle = async (message: ToClients): Promise<void> => {
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong', at: now() });
      case 'open':
        cell?.close();
        cell = new Cell(message.transport);
        return send({ type: 'opened', open: await cell.open(message.count, message.base, message.query, message.variables) });
      case 'mark':
        return cell?.mark(message.deadlineAt);
      case 'commits':
        for (const [transactionId, at] of message.commits) cell?.commit(transactionId, at);
        return;
      case 'collect':
        if (!cell) throw new Error('collect before open');
        return send({ type: 'collected', report: await cell.collect(message.events) });
      case 'close':
        cell?.close();
        cell = undefined;
        return send({ type: 'closed' });
      case 'catch-up':
        return send({ type: 'caught-up', report: await catchUp(message) });
      default:
        return message satisfies never;
    }
  };
  process.on('message', (message: ToClients) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  });
  // The bench owns this process: when it goes, so do we (and every socket with us).
  process.on('disconnect', () => process.exit(0));
};

// Only as the bench's child: a bench itself run under IPC (a test runner) must not answer here.
if (process.send && process.env.CAIRN_DELIVERY_CLIENTS === '1') {
  const send = process.send.bind(process);
  serve((message) => void send(message));
}
