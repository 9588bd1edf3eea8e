/**
 * Process managers under a burst (issue 16, goal 4): N transfers submitted at once settle
 * (COMPLETED or FAILED) through the money-transfer saga, and N `processOrder` requests become
 * PROCESSED through the order processor.
 *
 * One cairn server in the bench process, as `npm start` runs it: `startApp` with every module's
 * process managers + `createHttpServer`. Setup, not measured: BENCH_PM_ACCOUNTS accounts (EUR,
 * 1,000,000.00 each) and N orders, through their aggregates. Then all N mutations go out at once
 * over BENCH_PM_CONNECTIONS keep-alive sockets (the requests beyond that queue in the client),
 * and the bench polls the projection every 20 ms: time from the first request to the last
 * response (submitted), and to the last transfer or order reaching its final status (settled).
 *
 * Alone: `npx tsx test/bench/process-managers.ts`. Knobs: BENCH_PM_TRANSFERS=1000
 * BENCH_PM_ORDERS=1000 BENCH_PM_ACCOUNTS=100 BENCH_PM_CONNECTIONS=100 BENCH_PM_TIMEOUT_MS=60000.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { startApp, type App } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { accountAggregate } from '../../src/modules/accounts/aggregate.js';
import { orderAggregate } from '../../src/modules/orders/aggregate.js';
import { createHttpServer } from '../../src/server.js';
import type { Figure, FigureRunner, Goal } from './figure.js';
import { positive } from './target.js';
import { runAlone } from './alone.js';

const goalMs = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const context = (commandName: string) => ({ commandName, commandId: newId('cmd'), now: new Date() });

type Burst = {
  readonly what: string;
  readonly requests: number;
  /** Answers whose __typename is the success type. */
  readonly accepted: number;
  readonly firstRejection?: string;
  readonly submittedMs: number;
  readonly settledMs: number;
  /** Final statuses when the bench stopped waiting, e.g. { COMPLETED: 990, FAILED: 10 }. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly settled: number;
};

/** One operation of a burst: the same document for every request, its ids as variables, as typed clients send it. */
type Mutation = { readonly query: string; readonly variables: Record<string, unknown> };

const post = (agent: Agent, url: URL, mutation: Mutation): Promise<string> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify(mutation);
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
      response.on('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });

/**
 * Sends every mutation at once, then polls `statuses` until `settled` of them are final or the
 * timeout passes.
 */
const burst = async (options: {
  readonly what: string;
  readonly url: URL;
  readonly connections: number;
  readonly mutations: readonly Mutation[];
  readonly success: string;
  readonly statuses: () => Promise<Record<string, number>>;
  readonly final: readonly string[];
  readonly timeoutMs: number;
}): Promise<Burst> => {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const started = performance.now();
  let submittedMs = Number.NaN;
  let accepted = 0;
  let firstRejection: string | undefined;
  const answers = Promise.all(
    options.mutations.map((mutation) =>
      post(agent, options.url, mutation).then(
        (text) => {
          if (text.includes(`"${options.success}"`)) accepted += 1;
          else firstRejection ??= text.slice(0, 300);
        },
        (error: unknown) => void (firstRejection ??= String(error)),
      ),
    ),
  ).then(() => (submittedMs = performance.now() - started));
  let statuses: Record<string, number> = {};
  let settled = 0;
  try {
    while (performance.now() - started < options.timeoutMs) {
      statuses = await options.statuses();
      settled = options.final.reduce((sum, status) => sum + (statuses[status] ?? 0), 0);
      if (settled >= options.mutations.length) break;
      await sleep(20);
    }
  } finally {
    await answers;
    agent.destroy();
  }
  const settledMs = settled >= options.mutations.length ? performance.now() - started : Number.NaN;
  return {
    what: options.what,
    requests: options.mutations.length,
    accepted,
    ...(firstRejection !== undefined && { firstRejection }),
    submittedMs,
    settledMs,
    statuses,
    settled,
  };
};

const byStatus = async (sql: postgres.Sql, table: 'money_transfers' | 'orders', ids: readonly string[]) => {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from ${sql('projection')}.${sql(table)} where id = any(${ids as string[]}) group by status`;
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
};

const settings = () => ({
  transfers: positive('BENCH_PM_TRANSFERS', 1_000),
  orders: positive('BENCH_PM_ORDERS', 1_000),
  accounts: positive('BENCH_PM_ACCOUNTS', 100),
  connections: positive('BENCH_PM_CONNECTIONS', 100),
  timeoutMs: positive('BENCH_PM_TIMEOUT_MS', 60_000),
});

const openAccounts = async (app: App, ids: readonly string[]) => {
  for (let from = 0; from < ids.length; from += 20) {
    await Promise.all(
      ids.slice(from, from + 20).map((id) =>
        accountAggregate.handle(app.services.store, id, { type: 'OpenAccount', owner: 'bench', currency: 'EUR', initialBalance: '1000000.00' }, context('openAccount'), { newStream: true }),
      ),
    );
  }
};

const createOrders = async (app: App, ids: readonly string[]) => {
  for (let from = 0; from < ids.length; from += 20) {
    await Promise.all(
      ids.slice(from, from + 20).map((id) => orderAggregate.handle(app.services.store, id, { type: 'CreateOrder', name: 'bench order' }, context('createOrder'), { newStream: true })),
    );
  }
};

export const processManagers: FigureRunner = async ({ target, logger, progress }) => {
  const knobs = settings();
  const sql = postgres(target.url, { max: 2, onnotice: () => undefined });
  const app = await startApp({ databaseUrl: target.url, logger, relayPollMs: 1_000 });
  const http = createHttpServer(app.services);
  const results: Burst[] = [];
  try {
    await new Promise<void>((resolve, reject) => http.server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(http.server.address() as AddressInfo).port}/graphql`);
    const accounts = Array.from({ length: knobs.accounts }, () => newId('acc'));
    const orders = Array.from({ length: knobs.orders }, () => newId('ord'));
    progress(`process-managers: opening ${count(accounts.length)} accounts and creating ${count(orders.length)} orders (not measured)`);
    await openAccounts(app, accounts);
    await createOrders(app, orders);
    await app.services.relay.settle(60_000);
    await sleep(1_000); // the process managers see the setup's events and have nothing to do
    const transfers = Array.from({ length: knobs.transfers }, (_, i) => {
      const from = accounts[i % accounts.length]!;
      const to = accounts[(i + 1 + Math.floor(Math.random() * (accounts.length - 1))) % accounts.length]!;
      return { id: newId('mt'), from, to };
    });
    progress(`process-managers: ${count(transfers.length)} transfers at once`);
    results.push(
      await burst({
        what: 'transfers',
        url,
        connections: knobs.connections,
        mutations: transfers.map(
          ({ id, from, to }) => ({
            query: 'mutation Transfer($input: TransferMoneyInput!) { transferMoney(input: $input) { __typename } }',
            variables: { input: { id, fromAccountId: from, toAccountId: to, amount: '1.00' } },
          }),
        ),
        success: 'TransferMoneySuccess',
        statuses: () => byStatus(sql, 'money_transfers', transfers.map(({ id }) => id)),
        final: ['COMPLETED', 'FAILED'],
        timeoutMs: knobs.timeoutMs,
      }),
    );
    progress(`process-managers: ${describe(results.at(-1)!)}`);
    progress(`process-managers: ${count(orders.length)} processOrder at once`);
    results.push(
      await burst({
        what: 'orders',
        url,
        connections: knobs.connections,
        mutations: orders.map((id) => ({
          query: 'mutation Process($input: ProcessOrderInput!) { processOrder(input: $input) { __typename } }',
          variables: { input: { id } },
        })),
        success: 'ProcessOrderSuccess',
        statuses: () => byStatus(sql, 'orders', orders),
        final: ['PROCESSED'],
        timeoutMs: knobs.timeoutMs,
      }),
    );
    progress(`process-managers: ${describe(results.at(-1)!)}`);
  } finally {
    await http.close();
    await app.close();
    await sql.end({ timeout: 5 });
  }
  return [figure(results, knobs)];
};

const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1_000).toFixed(2) : '–');
const statusText = (statuses: Readonly<Record<string, number>>) =>
  Object.entries(statuses)
    .map(([status, n]) => `${status} ${count(n)}`)
    .join(', ') || 'none';

const describe = (result: Burst) =>
  `${count(result.requests)} ${result.what}: ${count(result.accepted)} accepted, submitted in ${seconds(result.submittedMs)} s, ` +
  `${Number.isFinite(result.settledMs) ? `all settled in ${seconds(result.settledMs)} s` : `${count(result.settled)} settled before the timeout`} (${statusText(result.statuses)})`;

const figure = (results: readonly Burst[], knobs: ReturnType<typeof settings>): Figure => {
  const goals: Goal[] = results.map((result) => ({
    goal: `${count(result.requests)} ${result.what === 'transfers' ? 'transfers submitted at once → all COMPLETED or FAILED' : 'processOrder submitted at once → all PROCESSED'}`,
    target: `≤ ${goalMs / 1_000} s`,
    result: Number.isFinite(result.settledMs) ? `${seconds(result.settledMs)} s` : `${count(result.settled)} of ${count(result.requests)} within ${knobs.timeoutMs / 1_000} s`,
    met: Number.isFinite(result.settledMs) && result.settledMs <= goalMs && result.accepted === result.requests,
  }));
  return {
    id: 'process-managers',
    title: 'Process managers under a burst: transfers and orders submitted at once, until all are settled',
    setup: [
      'one cairn server in the bench process as `npm start` runs it: `startApp` with every module\'s process managers (money-transfer saga, order processor), default retry settings, relay safety poll 1 s, + `createHttpServer` on 127.0.0.1',
      `setup, not measured: ${count(knobs.accounts)} accounts (EUR, 1,000,000.00 each) and ${count(knobs.orders)} orders (NEW) through their aggregates; the relay settles and the process managers idle for 1 s`,
      `transfers: ${count(knobs.transfers)} \`transferMoney\` of 1.00, each from account i mod ${count(knobs.accounts)} to another drawn at random (so every account is the source of about ${count(knobs.transfers / knobs.accounts)}); orders: one \`processOrder\` per order`,
      'each burst sends one document with its ids as variables, as typed clients (Apollo, urql, codegen) do: `mutation Transfer($input: TransferMoneyInput!) { transferMoney(input: $input) { __typename } }`, `mutation Process($input: ProcessOrderInput!) { processOrder(input: $input) { __typename } }`; with the ids inlined, every request is a new document to parse and validate (about 0.5 ms of validation each against this schema, graphql-js 16)',
      `all mutations of a burst are sent at once over ${count(knobs.connections)} keep-alive sockets (BENCH_PM_CONNECTIONS; the rest queue in the client); the bench polls the projection (projection.money_transfers, projection.orders) every 20 ms; times from the first request`,
    ],
    columns: ['burst', 'requests', 'accepted', 'all answered s', 'all settled s', 'final statuses'],
    rows: results.map((result) => [
      result.what === 'transfers' ? 'transferMoney → COMPLETED / FAILED' : 'processOrder → PROCESSED',
      count(result.requests),
      count(result.accepted),
      seconds(result.submittedMs),
      Number.isFinite(result.settledMs) ? seconds(result.settledMs) : `not within ${knobs.timeoutMs / 1_000} s (${count(result.settled)} settled)`,
      statusText(result.statuses),
    ]),
    goals,
    notes: results.filter((result) => result.firstRejection).map((result) => `${result.what}: ${count(result.requests - result.accepted)} request(s) not accepted; first answer: ${result.firstRejection}`),
    bars: results.map((result) => ({ group: 'process managers, burst settled', label: result.what, value: result.settledMs / 1_000, unit: 's' })),
    values: Object.fromEntries(results.map((result) => [`pm-settled-s@${result.what}`, result.settledMs / 1_000])),
  };
};

await runAlone(import.meta.url, 'process-managers', processManagers);
