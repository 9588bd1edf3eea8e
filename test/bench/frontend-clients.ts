/**
 * The subscribers of test/bench/frontend.ts, forked as a process of their own: graphql-ws as the
 * bare protocol on `ws`, many subscriptions multiplexed on each socket (as a browser tab's
 * graphql-ws client does), each on `accountChanged` of one account.
 *
 * Every `next` message is stamped on arrival (`performance.timeOrigin + performance.now()`) and
 * matched to the writer's commit of the same (account, version), whichever comes first; the
 * bench sends the commit times already converted into this process's clock.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import WebSocket from 'ws';
import { clientAddress } from './delivery-clients.js';

export const accountQuery = 'subscription Account($id: ID!) { accountChanged(id: $id) { id version balance } }';

export type ToFrontendClients =
  | { readonly type: 'ping' }
  | { readonly type: 'open'; readonly base: string; readonly ids: readonly string[]; readonly perSocket: number }
  | { readonly type: 'mark'; readonly deadlineAt: number }
  /** `account:version` and its commit time, in this process's clock. */
  | { readonly type: 'commits'; readonly commits: readonly (readonly [key: string, at: number])[] }
  /** Waits until every commit on a subscribed account has arrived, or the deadline passed. */
  | { readonly type: 'collect' }
  | { readonly type: 'close' };

export type FrontendReport = {
  readonly sockets: number;
  readonly subscriptions: number;
  /** Commits on subscribed accounts, and how many of them reached their subscriber by the deadline. */
  readonly expected: number;
  readonly delivered: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Pushes that matched no commit (none expected), and error messages. */
  readonly unmatched: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly cpuMs: number;
  readonly wallMs: number;
};

export type FromFrontendClients =
  | { readonly type: 'pong'; readonly at: number }
  | { readonly type: 'opened'; readonly sockets: number; readonly subscriptions: number }
  | { readonly type: 'collected'; readonly report: FrontendReport }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly error: string };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Push = { readonly id?: string; readonly type?: string; readonly payload?: { data?: { accountChanged?: { id: string; version: number } }; errors?: unknown } };

/** One socket: connection_init, then one `subscribe` per account; pushes go to `onPush`. */
const openSocket = (
  base: string,
  ids: readonly string[],
  localAddress: string,
  onPush: (key: string, at: number) => void,
  onError: (text: string) => void,
): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { localAddress });
    let acknowledged = false;
    const timer = setTimeout(() => reject(new Error('graphql-ws socket: no connection_ack within 30 s')), 30_000);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data: Buffer) => {
      const at = now();
      const message = JSON.parse(data.toString()) as Push;
      if (message.type === 'ping') return socket.send(JSON.stringify({ type: 'pong' }));
      if (!acknowledged) {
        if (message.type !== 'connection_ack') return reject(new Error(`expected connection_ack, got ${data.toString().slice(0, 200)}`));
        acknowledged = true;
        clearTimeout(timer);
        ids.forEach((id, index) => socket.send(JSON.stringify({ id: String(index), type: 'subscribe', payload: { query: accountQuery, variables: { id } } })));
        socket.removeListener('error', reject);
        socket.on('error', () => undefined);
        return resolve(socket);
      }
      const row = message.payload?.data?.accountChanged;
      if (message.type === 'next' && row) return onPush(`${row.id}:${row.version}`, at);
      if (message.type === 'next' || message.type === 'error') onError(JSON.stringify(message).slice(0, 300));
    });
  });

class Cell {
  private readonly sockets: WebSocket[] = [];
  private readonly subscribed = new Set<string>();
  private readonly committed = new Map<string, number>();
  private readonly early = new Map<string, number>();
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });
  private expected = 0;
  private delivered = 0;
  private unmatchedPushes = 0;
  private errors = 0;
  private firstError: string | undefined;
  private deadlineAt = Number.POSITIVE_INFINITY;
  private cpu = process.cpuUsage();
  private markedAt = now();

  async open(base: string, ids: readonly string[], perSocket: number): Promise<void> {
    for (const id of ids) this.subscribed.add(id);
    const chunks: (readonly string[])[] = [];
    for (let from = 0; from < ids.length; from += perSocket) chunks.push(ids.slice(from, from + perSocket));
    for (let from = 0; from < chunks.length; from += 20) {
      const opened = await Promise.allSettled(chunks.slice(from, from + 20).map((chunk, i) => openSocket(base, chunk, clientAddress(from + i), (key, at) => this.push(key, at), (text) => this.error(text))));
      for (const result of opened) if (result.status === 'fulfilled') this.sockets.push(result.value);
      const failure = opened.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    }
  }

  get counts() {
    return { sockets: this.sockets.length, subscriptions: this.subscribed.size };
  }

  mark(deadlineAt: number): void {
    this.deadlineAt = deadlineAt;
    this.cpu = process.cpuUsage();
    this.markedAt = now();
  }

  commit(key: string, at: number): void {
    if (!this.subscribed.has(key.slice(0, key.lastIndexOf(':')))) return;
    this.expected += 1;
    const receivedAt = this.early.get(key);
    if (receivedAt === undefined) return void this.committed.set(key, at);
    this.early.delete(key);
    this.record(receivedAt - at);
  }

  async collect(): Promise<FrontendReport> {
    while ((this.committed.size > 0 || this.expected === 0) && now() < this.deadlineAt) await sleep(5);
    const used = process.cpuUsage(this.cpu);
    const report: FrontendReport = {
      ...this.counts,
      expected: this.expected,
      delivered: this.delivered,
      p50: this.histogram.getValueAtPercentile(50) / 1_000,
      p99: this.histogram.getValueAtPercentile(99) / 1_000,
      max: this.histogram.maxValue / 1_000,
      unmatched: this.unmatchedPushes + this.early.size,
      errors: this.errors,
      ...(this.firstError !== undefined && { firstError: this.firstError }),
      cpuMs: (used.user + used.system) / 1_000,
      wallMs: now() - this.markedAt,
    };
    return report;
  }

  close(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.length = 0;
  }

  private push(key: string, at: number): void {
    if (at > this.deadlineAt) return;
    const committedAt = this.committed.get(key);
    if (committedAt === undefined) {
      if (this.early.has(key)) this.unmatchedPushes += 1;
      else this.early.set(key, at);
      return;
    }
    this.committed.delete(key);
    this.record(at - committedAt);
  }

  private record(ms: number): void {
    this.delivered += 1;
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1_000)));
  }

  private error(text: string): void {
    this.errors += 1;
    this.firstError ??= text;
  }
}

const serve = (send: (message: FromFrontendClients) => void) => {
  let cell: Cell | undefined;
  const handle = async (message: ToFrontendClients): Promise<void> => {
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong', at: now() });
      case 'open':
        cell?.close();
        cell = new Cell();
        await cell.open(message.base, message.ids, message.perSocket);
        return send({ type: 'opened', ...cell.counts });
      case 'mark':
        return cell?.mark(message.deadlineAt);
      case 'commits':
        for (const [key, at] of message.commits) cell?.commit(key, at);
        return;
      case 'collect':
        if (!cell) throw new Error('collect before open');
        return send({ type: 'collected', report: await cell.collect() });
      case 'close':
        cell?.close();
        cell = undefined;
        return send({ type: 'closed' });
      default:
        return message satisfies never;
    }
  };
  process.on('message', (message: ToFrontendClients) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => process.exit(0));
};

if (process.send && process.env.CAIRN_FRONTEND_CLIENTS === '1') {
  const send = process.send.bind(process);
  serve((message) => void send(message));
}
