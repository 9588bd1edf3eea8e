import { Decimal } from 'decimal.js';
import { createClient } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { databaseUrl, useApp, useHttpServer } from '../helpers/app.js';
import type { GraphQLResponse } from '../helpers/graphql.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { usePgBouncer } from '../helpers/pgbouncer.js';
import { waitFor } from '../helpers/wait.js';

// cairn as deployed behind PgBouncer in transaction mode: two instances whose pools and process
// managers go through the pooler with CAIRN_PREPARED_STATEMENTS=false, each relay LISTENing on
// a direct connection, and clients on their real HTTP servers.
const pooler = await usePgBouncer();
// The safety poll is a minute: a delivery within seconds came through NOTIFY and LISTEN.
const instance = () =>
  useApp({ databaseUrl: pooler.url, listenUrl: databaseUrl(), preparedStatements: false, relayPollMs: 60_000 });
const [a, b] = await Promise.all([instance(), instance()]);
const [httpA, httpB] = await Promise.all([useHttpServer(a), useHttpServer(b)]);

type Json = Record<string, any>;

const post = async (base: string, query: string, variables: Json = {}): Promise<Json> => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse;
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data!;
};

const openAccount = async (base: string, initialBalance: string): Promise<string> => {
  const data = await post(
    base,
    `mutation ($input: OpenAccountInput!) {
      openAccount(input: $input) { __typename ... on OpenAccountSuccess { account { id } } ... on Error { code message } }
    }`,
    { input: { owner: 'pooled', currency: 'EUR', initialBalance } },
  );
  expect(data.openAccount.__typename, JSON.stringify(data)).toBe('OpenAccountSuccess');
  return data.openAccount.account.id as string;
};

const account = async (base: string, id: string) =>
  (await post(base, `query ($id: ID!) { account(id: $id) { id balance version status } }`, { id })).account as Json | null;

const createOrder = `mutation ($input: CreateOrderInput!) {
  createOrder(input: $input) { __typename ... on CreateOrderSuccess { order { id status version } } ... on Error { code message } }
}`;

const transfer = `mutation ($input: TransferMoneyInput!) {
  transferMoney(input: $input) { __typename ... on TransferMoneySuccess { moneyTransfer { id status } } ... on Error { code message } }
}`;

const transferStatus = `query ($id: ID!) { moneyTransfer(id: $id) { id status failureReason } }`;

const orderEvents = `subscription ($id: ID, $after: String) { events(aggregateId: $id, after: $after) { id type version aggregateId } }`;

describe('cairn behind PgBouncer in transaction mode', () => {
  it('is ready, and serves commands and queries over HTTP', async () => {
    for (const { base } of [httpA, httpB]) {
      const ready = await fetch(`${base}/ready`);
      expect(await ready.json()).toEqual({ ready: true, database: true, relay: true, listen: true });
    }
    const id = await openAccount(httpA.base, '12.50');
    const credited = await post(
      httpA.base,
      `mutation ($input: CreditAccountInput!) {
        creditAccount(input: $input) { __typename ... on CreditAccountSuccess { account { balance version } } ... on Error { code message } }
      }`,
      { input: { accountId: id, amount: '0.25', expectedVersion: 1 } },
    );
    expect(credited.creditAccount).toEqual({ __typename: 'CreditAccountSuccess', account: { balance: '12.75', version: 2 } });
    expect(await account(httpB.base, id)).toEqual({ id, balance: '12.75', version: 2, status: 'OPEN' });
  });

  it("delivers a commit on one instance to the other's subscribers, over SSE and graphql-ws", async () => {
    const created = await post(httpA.base, createOrder, { input: { name: 'pooled espresso' } });
    const id = created.createOrder.order.id as string;
    // After the order's creation, by its position: "from now" is the newest commit-safe event, and a
    // transaction a parallel file holds open in the cluster can keep the creation behind that fence.
    const [creation] = (await post(httpA.base, `query ($id: ID!) { stream(aggregateId: $id, first: 1) { type position } }`, { id })).stream as Json[];
    expect(creation!.type).toBe('OrderCreated');
    const variables = { id, after: creation!.position };
    const sse = await openHttpSse<{ events: Json }>(httpB.base, orderEvents, variables);
    onTestFinished(() => sse.close());
    const overWebSocket: Json[] = [];
    const ws = createClient({ url: `${httpB.base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    onTestFinished(() => ws.dispose());
    ws.subscribe({ query: orderEvents, variables }, {
      next: (payload) => overWebSocket.push(payload.data!.events as Json),
      error: () => undefined,
      complete: () => undefined,
    });
    // Wait until both subscriptions are live on instance B's relay.
    await waitFor(() => b.services.relay.listenerCount >= 2 || undefined, 'both subscriptions to start', 5_000);

    const processed = await post(
      httpA.base,
      `mutation ($input: ProcessOrderInput!) { processOrder(input: $input) { __typename ... on Error { code message } } }`,
      { input: { id } },
    );
    expect(processed.processOrder.__typename).toBe('ProcessOrderSuccess');

    // OrderProcessingRequested from the mutation, then OrderProcessed from the order processor.
    const expected = ['OrderProcessingRequested', 'OrderProcessed'];
    const types = (events: Json[]) => events.map((event) => event.type);
    // Within the default 10 s: a parallel file's transaction may hold the cluster-wide fence for a
    // while, and only a doorbell could have started the read at all (the poll is a minute).
    await waitFor(() => sse.payloads.length >= 2 && overWebSocket.length >= 2, 'both events on both transports');
    expect(types(sse.payloads.map((payload) => payload.data!.events))).toEqual(expected);
    expect(types(overWebSocket)).toEqual(expected);
  });

  it('settles concurrent transfers: the saga steps through the pooler, and money is conserved', async () => {
    const accounts = await Promise.all(['100', '50', '10'].map((balance) => openAccount(httpA.base, balance)));
    const requests = Array.from({ length: 12 }, (_, i) => ({
      fromAccountId: accounts[i % 3],
      toAccountId: accounts[(i + 1) % 3],
      amount: String(5 + (i % 4) * 10),
    }));
    const ids = await Promise.all(
      requests.map(async (input, i) => {
        const data = await post(i % 2 ? httpA.base : httpB.base, transfer, { input });
        expect(data.transferMoney.__typename, JSON.stringify(data)).toBe('TransferMoneySuccess');
        return data.transferMoney.moneyTransfer.id as string;
      }),
    );

    const settled = await waitFor(
      async () => {
        const transfers = await Promise.all(ids.map(async (id) => (await post(httpB.base, transferStatus, { id })).moneyTransfer as Json));
        return transfers.every((t) => ['COMPLETED', 'FAILED'].includes(t.status)) && transfers;
      },
      'every transfer to settle',
      30_000,
    );

    expect(settled.filter((t) => t.status === 'COMPLETED').length).toBeGreaterThan(0);
    for (const t of settled) if (t.status === 'FAILED') expect(t.failureReason).toBe('INSUFFICIENT_FUNDS');
    const balances = await Promise.all(accounts.map(async (id) => (await account(httpA.base, id))!.balance as string));
    expect(balances.reduce((sum, balance) => sum.plus(balance), new Decimal(0)).toString()).toBe('160');
  });
});
