import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { followEvents, run, subscribe, type LogEvent, type Transport } from './client.js';
import type { MoneyTransferStatus } from './generated/graphql.js';
import possibleTypes from './generated/possible-types.js';
import { AccountChanged, CreditAccount, MoneyTransferById, MoneyTransferChanged, OpenAccount, TransferMoney } from './operations.js';

/**
 * What a frontend does, through the real graphql-sse and graphql-ws clients with the documents
 * codegen typed (test/client/operations.ts): a type error here is a schema change clients feel.
 */
const app = await useApp({ relayPollMs: 100 });
const { base } = await useHttpServer(app);
const relay = app.services.relay;

const sse = createSseClient({ url: `${base}/graphql` });
const ws = createWsClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
afterAll(async () => {
  sse.dispose();
  await ws.dispose();
});

const transports: [string, Transport][] = [
  ['graphql-sse', sse],
  ['graphql-ws', ws],
];

/**
 * Subscribes and waits until the server listens (`…Changed` pushes only what commits after
 * that); the stop it returns waits until the server has let go, so the next test counts afresh.
 */
const listening = async (start: () => () => void): Promise<() => Promise<void>> => {
  const before = relay.listenerCount;
  const unsubscribe = start();
  await waitFor(() => relay.listenerCount > before, 'the subscription to listen');
  return async () => {
    unsubscribe();
    await waitFor(() => relay.listenerCount === before, 'the server to stop listening');
  };
};

const openAccount = async (transport: Transport, owner: string, initialBalance: string) => {
  const { openAccount } = await run(transport, OpenAccount, { input: { owner, currency: 'EUR', initialBalance } });
  if (openAccount.__typename !== 'OpenAccountSuccess') throw new Error(`openAccount answered ${openAccount.__typename}`);
  return openAccount.account;
};

const terminal: readonly MoneyTransferStatus[] = ['COMPLETED', 'FAILED'];

describe.each(transports)('a frontend over %s, typed by codegen', (_name, transport) => {
  it('sees balances change live and a transfer saga move from CREATED to COMPLETED', async () => {
    const ada = await openAccount(transport, 'ada', '100.00');
    const bob = await openAccount(transport, 'bob', '10');
    expect(ada).toMatchObject({ owner: 'ada', balance: '100', status: 'OPEN', version: 1 });

    const balances: string[] = [];
    const stopAda = await listening(() => subscribe(transport, AccountChanged, { id: ada.id }, (data) => balances.push(data.accountChanged.balance)));
    const credited = await run(transport, CreditAccount, { input: { accountId: ada.id, amount: '5.5' } });
    expect(credited.creditAccount).toEqual({ __typename: 'CreditAccountSuccess', account: { id: ada.id, balance: '105.5', version: 2 } });
    await waitFor(() => balances.includes('105.5'), 'the credit pushed');

    const requested = await run(transport, TransferMoney, { input: { fromAccountId: ada.id, toAccountId: bob.id, amount: '67' } });
    if (requested.transferMoney.__typename !== 'TransferMoneySuccess') throw new Error(requested.transferMoney.__typename);
    const transfer = requested.transferMoney.moneyTransfer;
    expect(transfer).toMatchObject({ status: 'CREATED', amount: '67', version: 1 });

    // Subscribe, then read: a step the saga took before the subscription started is in the read,
    // every later one is pushed, in version order.
    const steps: { status: MoneyTransferStatus; version: number }[] = [];
    const stopTransfer = await listening(() =>
      subscribe(transport, MoneyTransferChanged, { id: transfer.id }, ({ moneyTransferChanged }) => steps.push(moneyTransferChanged)),
    );
    const { moneyTransfer: read } = await run(transport, MoneyTransferById, { id: transfer.id });
    const last = () => [read!, ...steps].reduce((a, b) => (b.version > a.version ? b : a));
    await waitFor(() => terminal.includes(last().status), 'the saga to finish');
    expect(last()).toMatchObject({ status: 'COMPLETED', version: 3 });
    expect(steps.map((step) => step.version)).toEqual([...steps.map((step) => step.version)].sort());
    expect(steps.every((step) => step.version > read!.version)).toBe(true);
    await waitFor(() => balances.includes('38.5'), 'the transfer debit pushed to the account');

    await stopTransfer();
    await stopAda();
  });

  it('shows a failed transfer with its reason', async () => {
    const ada = await openAccount(transport, 'ada', '1');
    const bob = await openAccount(transport, 'bob', '1');
    const requested = await run(transport, TransferMoney, { input: { fromAccountId: ada.id, toAccountId: bob.id, amount: '1000' } });
    if (requested.transferMoney.__typename !== 'TransferMoneySuccess') throw new Error(requested.transferMoney.__typename);
    const { id } = requested.transferMoney.moneyTransfer;
    const pushed: { status: MoneyTransferStatus; failureReason: string | null }[] = [];
    const stop = await listening(() => subscribe(transport, MoneyTransferChanged, { id }, (data) => pushed.push(data.moneyTransferChanged)));
    const failed = await waitFor(async () => {
      const { moneyTransfer } = await run(transport, MoneyTransferById, { id });
      return moneyTransfer?.status === 'FAILED' ? moneyTransfer : pushed.find((step) => step.status === 'FAILED');
    }, 'the transfer to fail');
    expect(failed).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS' });
    await stop();
  });

  it('reads a wrong id as a typed NotFoundError, never an empty object', async () => {
    const accountId = newId('acc');
    const { creditAccount } = await run(transport, CreditAccount, { input: { accountId, amount: '1' } });
    expect(creditAccount).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND', message: expect.any(String) });
  });

  it('resumes the event log from the last position it processed: no gap, no duplicate', async () => {
    const baseline = relay.listenerCount;
    const ada = await openAccount(transport, 'ada', '1');
    const filter = { aggregateId: ada.id };
    const first: LogEvent[] = [];
    const stop = followEvents(transport, { filter }, (event) => first.push(event));
    await run(transport, CreditAccount, { input: { accountId: ada.id, amount: '2' } });
    await waitFor(() => first.length === 2, 'the opening and the credit');
    stop();

    // Offline: two commits the app does not see.
    await run(transport, CreditAccount, { input: { accountId: ada.id, amount: '3' } });
    await run(transport, CreditAccount, { input: { accountId: ada.id, amount: '4' } });

    const resumed: LogEvent[] = [];
    const stopAgain = followEvents(transport, { after: first.at(-1)!.position, filter }, (event) => resumed.push(event));
    await run(transport, CreditAccount, { input: { accountId: ada.id, amount: '5' } });
    await waitFor(() => resumed.length >= 3, 'the missed credits and the new one');
    stopAgain();
    await waitFor(() => relay.listenerCount === baseline, 'the server to stop listening');
    const amounts = [...first, ...resumed].map((event) => (event.__typename === 'AccountCredited' ? event.amount : event.type));
    expect(amounts).toEqual(['AccountOpened', '2', '3', '4', '5']);
    expect([...first, ...resumed].map((event) => event.version)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('possibleTypes for normalised caches', () => {
  it('lists every error type under Error, so `... on Error` matches in Apollo and Graphcache', () => {
    const errors = possibleTypes.possibleTypes.Error;
    expect(errors).toEqual(expect.arrayContaining(['NotFoundError', 'ValidationError', 'InsufficientFundsError']));
    expect(possibleTypes.possibleTypes.TransferMoneyResult).toEqual(expect.arrayContaining(['TransferMoneySuccess', 'NotFoundError']));
  });
});
