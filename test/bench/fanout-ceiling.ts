/**
 * The raw fan-out ceiling of test/bench/fanout.ts, forked as a process of its own: a bare
 * `node:http` server that answers every request with an SSE stream and, on order, writes events
 * to all of them, with nothing between the schedule and the sockets.
 *
 * Events arrive on the delivery writer's schedule (transactions of `batch` events at `rate`
 * events/s, open loop) and are "committed" at once; a 5 ms tick (a relay's batch) sends what
 * came in since the last tick to every socket in one write. Each event is the SSE block cairn
 * writes for an `events { id position }` subscription payload: `event: next\ndata: {"data":
 * {"events":{"id":…,"position":…}}}\n\n`, the position a real cursor (`encodeCursor`), so the
 * delivery clients decode and check it as they do cairn's.
 *
 * CPU is this process's own (`process.cpuUsage()`), counted from `mark` to `cpu`.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeCursor } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import type { WriteResult } from './delivery-writer.js';

export type CeilingOrder = { readonly rate: number; readonly batch: number; readonly durationMs: number; readonly tickMs: number };

export type ToCeiling =
  | { readonly type: 'ping' }
  | { readonly type: 'streams' }
  | { readonly type: 'mark' }
  | { readonly type: 'cpu' }
  | ({ readonly type: 'write' } & CeilingOrder);

export type FromCeiling =
  | { readonly type: 'pong'; readonly at: number; readonly base: string }
  | { readonly type: 'streams'; readonly count: number }
  | { readonly type: 'marked' }
  | { readonly type: 'cpu'; readonly cpuMs: number; readonly wallMs: number; readonly writes: number; readonly bytes: number }
  | { readonly type: 'commits'; readonly commits: readonly (readonly [transactionId: string, at: number])[] }
  | { readonly type: 'written'; readonly result: WriteResult; readonly block: string }
  | { readonly type: 'failed'; readonly error: string };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SSE block of one event, as yoga's SSE encoder frames cairn's result. */
export const sseBlock = (id: string, position: string): string =>
  `event: next\ndata: ${JSON.stringify({ data: { events: { id, position } } })}\n\n`;

const serve = (send: (message: FromCeiling) => void) => {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    req.resume(); // the subscription request's body: read and ignored
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.flushHeaders();
      streams.add(res);
      res.once('close', () => streams.delete(res));
    });
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
  let cpu = process.cpuUsage();
  let markedAt = performance.now();
  let writes = 0;
  let bytes = 0;
  let transactionId = 1_000_000;
  let position = 0;
  let lastBlock = '';

  const write = async (order: CeilingOrder): Promise<WriteResult> => {
    const cpuAt = process.cpuUsage();
    let pending: string[] = [];
    let commits: [string, number][] = [];
    const tick = setInterval(() => {
      if (commits.length > 0) send({ type: 'commits', commits });
      commits = [];
      if (pending.length === 0) return;
      const chunk = Buffer.from(pending.join(''));
      pending = [];
      for (const stream of streams) stream.write(chunk);
      writes += streams.size;
      bytes += chunk.length * streams.size;
    }, order.tickMs);
    const intervalMs = (1_000 * order.batch) / order.rate;
    const total = Math.max(1, Math.round(order.durationMs / intervalMs));
    const started = performance.now();
    let maxLateMs = 0;
    let done = 0;
    try {
      for (let i = 0; i < total; i++) {
        const due = started + i * intervalMs;
        const wait = due - performance.now();
        if (wait >= 1) await sleep(wait);
        maxLateMs = Math.max(maxLateMs, performance.now() - due);
        transactionId += 1;
        for (let k = 0; k < order.batch; k++) {
          position += 1;
          lastBlock = sseBlock(newId('evt'), encodeCursor({ transactionId: BigInt(transactionId), position: BigInt(position) }));
          pending.push(lastBlock);
        }
        commits.push([String(transactionId), now()]);
        done += 1;
      }
      await sleep(order.tickMs * 2); // the last tick goes out
    } finally {
      clearInterval(tick);
      if (commits.length > 0) send({ type: 'commits', commits });
    }
    const used = process.cpuUsage(cpuAt);
    const elapsedMs = Math.max(performance.now() - started, order.durationMs);
    return {
      events: done * order.batch,
      transactions: done,
      failures: 0,
      rate: (done * order.batch) / (elapsedMs / 1_000),
      maxLateMs,
      skipped: total - done,
      commitP50: 0,
      commitP99: 0,
      cpuMs: (used.user + used.system) / 1_000,
      endedAt: now(),
    };
  };

  const handle = async (message: ToCeiling): Promise<void> => {
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong', at: now(), base: await listening });
      case 'streams':
        return send({ type: 'streams', count: streams.size });
      case 'mark':
        cpu = process.cpuUsage();
        markedAt = performance.now();
        writes = 0;
        bytes = 0;
        return send({ type: 'marked' });
      case 'cpu': {
        const used = process.cpuUsage(cpu);
        return send({ type: 'cpu', cpuMs: (used.user + used.system) / 1_000, wallMs: performance.now() - markedAt, writes, bytes });
      }
      case 'write':
        return send({ type: 'written', result: await write(message), block: lastBlock });
      default:
        return message satisfies never;
    }
  };
  process.on('message', (message: ToCeiling) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => {
    for (const stream of streams) stream.destroy();
    server.close();
    process.exit(0);
  });
};

// Only as the bench's child: a bench itself run under IPC (a test runner) must not answer here.
if (process.send && process.env.CAIRN_FANOUT_CEILING === '1') {
  const send = process.send.bind(process);
  serve((message) => void send(message));
}
