/**
 * The HTTP-level peer (issue 16, goal 1): cairn's GraphQL `createTransaction` over HTTP against
 * Emmett's own HTTP API doing the same append, both driven by autocannon in the same way.
 *
 *   cairn   the GraphQL mutation on the real server (`startApp` + `createHttpServer`), exactly as
 *           the `http` figure of throughput.ts runs it
 *   Emmett  an Express application built with emmett-expressjs 0.42.0's `getApplication`, `on`
 *           and `Created` (test/bench/emmett-expressjs.ts says why it is a copy of its sources):
 *           `POST /transactions` with `{ currency, amount }` validates both as cairn's decider
 *           does and appends one TransactionCreated to `Transaction-<id>` through Emmett 0.42's
 *           PostgreSQL store with the inline SQL-row projection of throughput.ts's peer (the
 *           same append and projection as the kernel-level peer); it answers 201 `{ id }`.
 *
 * At each concurrency the two take turns (cairn, then Emmett), each a warm-up autocannon run and
 * a measured one; both servers live in the bench process, autocannon in one worker thread of it.
 *
 * Alone: `npx tsx test/bench/http-peer.ts`. Knobs: BENCH_HTTP_PEER_MS=4000 (measured window per
 * run), BENCH_HTTP_PEER_WARMUP_MS=1000, BENCH_HTTP_PEER_CONCURRENCY=1,8,32.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '@event-driven-io/emmett';
import autocannon from 'autocannon';
import type { Request } from 'express';
import postgres from 'postgres';
import { startApp } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { createHttpServer } from '../../src/server.js';
import { Created, getApplication, on } from './emmett-expressjs.js';
import type { BenchContext, Figure, FigureRunner } from './figure.js';
import { positive, positives } from './target.js';
import { benchAppOptions, describeServer, httpRun, metadataOf, runningAlone, settled, startPeer, transactionData, type HttpRun, type Peer, type Timing, type TransactionCreated } from './throughput.js';
import { runAlone } from './alone.js';

const currencyPattern = /^[A-Z]{3}$/;

type CreateBody = { readonly currency?: unknown; readonly amount?: unknown };

/** The Emmett API: one route, the same append as the kernel-level peer, Emmett's way of answering. */
const transactionsApi = (peer: Peer) => (router: import('express').Router) => {
  router.post(
    '/transactions',
    on(async (request: Request<Record<string, string>, unknown, CreateBody>) => {
      const { currency, amount } = request.body;
      if (typeof currency !== 'string' || !currencyPattern.test(currency)) throw new ValidationError('currency must be an ISO 4217 code');
      if (typeof amount !== 'string' || !(Number(amount) > 0)) throw new ValidationError('amount must be greater than zero');
      const id = newId('tx');
      await peer.store.appendToStream<TransactionCreated>(`Transaction-${id}`, [
        { type: 'TransactionCreated', data: { currency, amount }, metadata: metadataOf(newId('cmd')) },
      ]);
      return Created({ createdId: id });
    }),
  );
};

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const emmettCannon = (url: string, connections: number, durationMs: number) =>
  autocannon({
    url,
    connections,
    duration: durationMs / 1000,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(transactionData),
    workers: 1,
  });

/** As throughput.ts's `httpRun`: a warm-up run, then a measured one; rows counted in Emmett's projection table. */
const emmettRun = async (url: string, peer: Peer, connections: number, timing: Timing): Promise<HttpRun> => {
  await emmettCannon(url, connections, timing.warmupMs);
  const before = await settled(() => peer.countRows());
  const result = await emmettCannon(url, connections, timing.durationMs);
  const rows = (await settled(() => peer.countRows())) - before;
  return {
    rate: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    count: result['2xx'],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    mismatches: 0,
    rows,
  };
};

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : '–');
const times = (value: number) => `${value.toFixed(2)}×`;

export const httpPeer: FigureRunner = async (context: BenchContext) => {
  const timing: Timing = { warmupMs: positive('BENCH_HTTP_PEER_WARMUP_MS', 1_000), durationMs: positive('BENCH_HTTP_PEER_MS', 4_000) };
  const concurrencies = positives('BENCH_HTTP_PEER_CONCURRENCY', [1, 8, 32]);
  const top = Math.max(...concurrencies);
  const admin = postgres(context.target.url, { max: 1, onnotice: () => undefined });
  const closers: (() => Promise<unknown>)[] = [];
  const results = new Map<number, { cairn: HttpRun; emmett: HttpRun }>();
  let server = '';
  try {
    server = await describeServer(admin);
    const app = await startApp({ ...benchAppOptions(context), poolSize: top + 4 });
    closers.push(() => app.close());
    await runningAlone(app);
    const cairnHttp = createHttpServer(app.services);
    closers.push(() => cairnHttp.close());
    const cairnUrl = `${await listen(cairnHttp.server)}/graphql`;
    const peer = await startPeer(admin, context.target.url, 'SQL row', top, '_http');
    closers.push(() => peer.close());
    const express = getApplication({ apis: [transactionsApi(peer)] });
    const emmettServer = createServer(express);
    closers.push(() => new Promise((resolve) => emmettServer.close(resolve)).then(() => emmettServer.closeAllConnections()));
    const emmettUrl = `${await listen(emmettServer)}/transactions`;
    for (const concurrency of concurrencies) {
      await app.services.relay.settle(60_000);
      const cairn = await httpRun(cairnUrl, admin, concurrency, timing);
      const emmett = await emmettRun(emmettUrl, peer, concurrency, timing);
      results.set(concurrency, { cairn, emmett });
      context.progress(
        `http-peer at ${concurrency}: cairn ${Math.round(cairn.rate)}/s (p99 ${cairn.p99} ms), Emmett HTTP ${Math.round(emmett.rate)}/s (p99 ${emmett.p99} ms), ${times(cairn.rate / emmett.rate)}`,
      );
    }
  } finally {
    for (const close of closers.reverse()) await close().catch((error: unknown) => context.logger.warn('http-peer: closing failed', { error }));
    await admin.end({ timeout: 5 });
  }
  return [figure(results, { timing, server, concurrencies })];
};

const figure = (
  results: ReadonlyMap<number, { cairn: HttpRun; emmett: HttpRun }>,
  facts: { timing: Timing; server: string; concurrencies: readonly number[] },
): Figure => {
  const rows = [...results].flatMap(([concurrency, { cairn, emmett }]) => [
    ['cairn GraphQL createTransaction', concurrency, Math.round(cairn.rate), fixed(cairn.p50), fixed(cairn.p99), cairn.count, cairn.non2xx + cairn.mismatches, cairn.rows, times(cairn.rate / emmett.rate)],
    ['Emmett HTTP POST /transactions', concurrency, Math.round(emmett.rate), fixed(emmett.p50), fixed(emmett.p99), emmett.count, emmett.non2xx, emmett.rows, '1.00×'],
  ]);
  const ratioAt = [...results].map(([concurrency, { cairn, emmett }]) => ({ concurrency, ratio: cairn.rate / emmett.rate }));
  return {
    id: 'http-peer',
    title: "HTTP peer: cairn's GraphQL mutation against Emmett's HTTP API (emmett-expressjs), the same append",
    setup: [
      facts.server,
      `concurrency ${facts.concurrencies.join(', ')}: autocannon 9 in one worker thread of the bench process, connections = concurrency, pipelining 1, keep-alive; per run a ${facts.timing.warmupMs} ms autocannon run, then a ${facts.timing.durationMs} ms measured one (BENCH_HTTP_PEER_WARMUP_MS, BENCH_HTTP_PEER_MS); cairn then Emmett at each concurrency`,
      'cairn: POST /graphql `mutation { createTransaction(input: { currency: "EUR", amount: "12.34" }) { __typename } }` on `startApp` (no process managers, relay listening, safety poll 60 s, measured once it knows it runs alone, so no NOTIFY after commits) + `createHttpServer`; counted when 2xx with the success body',
      `Emmett: express 4.22 with emmett-expressjs 0.42.0's request path (getApplication: express.json, urlencoded, router, problem-details errors; \`on\`; \`Created\` → 201 \`{ id }\` and a Location header), POST /transactions ${JSON.stringify(transactionData)}; the handler validates currency and amount, then \`appendToStream('Transaction-<id>', [TransactionCreated])\` on @event-driven-io/emmett-postgresql 0.42.0 (node-postgres pool of ${Math.max(...facts.concurrencies)}) with the inline SQL-row projection of the kernel-level peer; counted when 2xx`,
      'both servers on 127.0.0.1 in the bench process, each on a database of its own on the same PostgreSQL server; "rows" are the projection rows created during the measured run (requests in flight when autocannon stops still commit)',
    ],
    columns: ['server', 'concurrency', 'requests/s', 'p50 ms', 'p99 ms', 'responses counted', 'not counted', 'rows', '÷ Emmett HTTP'],
    rows,
    goals: [
      {
        goal: 'cairn GraphQL mutation over HTTP ÷ Emmett HTTP',
        target: '≥ 1.0× at every concurrency',
        result: ratioAt.map(({ concurrency, ratio }) => `${times(ratio)} at ${concurrency}`).join(', '),
        met: ratioAt.length > 0 && ratioAt.every(({ ratio }) => ratio >= 1),
      },
    ],
    notes: [
      'autocannon reports latency in whole milliseconds; both servers, their database pools and the load generator share the same two cores with PostgreSQL.',
      "The Emmett handler appends without reading the stream first (Emmett 0.42 maps a new stream's expectation to no check), as the kernel-level peer does; cairn's command locks the projection row, decides, appends, projects and reads its answer back.",
    ],
    bars: [...results].flatMap(([concurrency, { cairn, emmett }]) => [
      { group: `HTTP, concurrency ${concurrency}`, label: 'cairn GraphQL', value: cairn.rate, unit: 'req/s' },
      { group: `HTTP, concurrency ${concurrency}`, label: 'Emmett HTTP', value: emmett.rate, unit: 'req/s' },
    ]),
    values: Object.fromEntries(
      [...results].flatMap(([concurrency, { cairn, emmett }]) => [
        [`peer-http@${concurrency}`, emmett.rate],
        [`http-beside-peer-http@${concurrency}`, cairn.rate],
      ]),
    ),
  };
};

await runAlone(import.meta.url, 'http-peer', httpPeer);
