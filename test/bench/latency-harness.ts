/**
 * What the delivery-latency scenarios share (test/bench/latency.ts, latency-topologies.ts): cairn
 * instances with real HTTP servers, subscribers over SSE and graphql-ws, a writer running
 * `createTransaction` through an instance's store, and one clock for all of them.
 */
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { App } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import { createHttpServer } from '../../src/server.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { percentile } from './target.js';

const subscription = `subscription { events(aggregateType: "Transaction") { aggregateId } }`;
export type Payload = { data?: { events?: { aggregateId: string } } };

/**
 * Commit acknowledgements and each client's receipts, by aggregate id. A receipt may come before
 * the writer sees its acknowledgement (the in-process poke runs on commit); that counts as 0.
 */
export class Clock {
  readonly committed = new Map<string, number>();
  /** How long each command took, begin to commit acknowledged. */
  readonly commandMs: number[] = [];
  readonly received = new Map<string, Map<string, number>>();
  receiver(name: string) {
    const receipts = new Map<string, number>();
    this.received.set(name, receipts);
    return (payload: Payload) => {
      const id = payload.data?.events?.aggregateId;
      if (id !== undefined) receipts.set(id, performance.now());
    };
  }
  latencies(receipts: Map<string, number>): Float64Array {
    const samples: number[] = [];
    for (const [id, at] of receipts) {
      const committed = this.committed.get(id);
      if (committed !== undefined) samples.push(Math.max(0, at - committed));
    }
    return Float64Array.from(samples).sort();
  }
  reset() {
    this.committed.clear();
    this.commandMs.length = 0;
    for (const receipts of this.received.values()) receipts.clear();
  }
}

export const serve = async (app: App) => {
  const http = createHttpServer(app.services);
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  return { http, port: (http.server.address() as AddressInfo).port };
};

export type Transport = 'SSE' | 'WebSocket';

/** Subscribes `instance`'s clients (one per transport) to every `Transaction` event; their receipts go to `clock`. */
export const subscribe = async (
  clock: Clock,
  instance: string,
  port: number,
  closers: (() => unknown)[],
  transports: readonly Transport[] = ['SSE', 'WebSocket'],
) => {
  if (transports.includes('SSE')) {
    const sse = await openHttpSse<Payload['data']>(`http://127.0.0.1:${port}`, subscription, {}, clock.receiver(`${instance} SSE`));
    closers.push(() => sse.close());
  }
  if (transports.includes('WebSocket')) {
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const onPayload = clock.receiver(`${instance} WebSocket`);
    closers.push(
      client.subscribe({ query: subscription }, { next: (payload) => onPayload(payload as Payload), error: () => undefined, complete: () => undefined }),
      () => client.dispose(),
    );
  }
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `createTransaction` through `app`'s store, its acknowledgement time recorded by aggregate id. */
export const command = (app: App, clock: Clock) => async () => {
  const id = newId('tx');
  const started = performance.now();
  await transactionAggregate.handle(
    app.services.store,
    id,
    { type: 'CreateTransaction', currency: 'EUR', amount: '12.34' },
    { commandName: 'createTransaction', commandId: newId('cmd'), now: new Date() },
  );
  const committed = performance.now();
  clock.committed.set(id, committed);
  clock.commandMs.push(committed - started);
};

/** One writer, one command every `intervalMs`: the "at rest" pace. */
export const writeAtRest = async (app: App, clock: Clock, commands: number, intervalMs: number) => {
  const run = command(app, clock);
  for (let i = 0; i < commands; i++) {
    await run();
    await sleep(intervalMs);
  }
};

export type Row = {
  scenario: string;
  client: string;
  commands: number;
  commandP50: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
};

export const summarise = (scenario: string, clock: Clock, commands: number): Row[] =>
  [...clock.received].map(([client, receipts]) => {
    const sorted = clock.latencies(receipts);
    return {
      scenario,
      client,
      commands,
      commandP50: percentile(Float64Array.from(clock.commandMs).sort(), 50),
      samples: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
    };
  });

export const untilReceived = async (clock: Clock, commands: number) => {
  const deadline = Date.now() + 30_000;
  while ([...clock.received.values()].some((receipts) => receipts.size < commands)) {
    if (Date.now() > deadline) throw new Error('subscribers did not receive every event within 30 s');
    await sleep(20);
  }
};
