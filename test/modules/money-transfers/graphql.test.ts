import KSUID from 'ksuid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { lockSpaces } from '../../../src/eventstore/postgres-store.js';
import { useApp } from '../../helpers/app.js';
import { execute, subscribeSse, type GraphQLResponse } from '../../helpers/graphql.js';
import { holdTransaction } from '../../helpers/locks.js';
import { waitFor } from '../../helpers/wait.js';
import { accountClient, uniqueKey, watch, type Json } from '../accounts/operations.js';

const app = await useApp({ relayPollMs: 100 });
const client = accountClient(app.yoga);

const streamDoc = `query ($id: ID!) {
  stream(aggregateId: $id) {
    __typename id type version metadata
    ... on MoneyTransferCreated { fromAccountId toAccountId amount currency }
    ... on MoneyTransferFailed { reason }
    ... on AccountDebitedForTransfer { transferId amount }
    ... on AccountCreditedForTransfer { transferId amount }
    ... on AccountTransferDebitDeclined { transferId amount balance declineReason: reason }
  }
}`;

const readStream = async (id: string) => {
  const response = await execute(app.yoga, streamDoc, { id });
  expect(response.errors).toBeUndefined();
  return response.data!.stream as Json[];
};

const settled = (id: string) =>
  waitFor(async () => {
    const transfer = await client.moneyTransfer(id);
    return transfer && ['COMPLETED', 'FAILED'].includes(transfer.status) ? transfer : undefined;
  }, `transfer ${id} to complete or fail`);

describe('transferMoney and the saga (eventsourcing-cqrs-go)', () => {
  it('moves 67 from 100 to 10: COMPLETED, 33 and 77, each step caused by the one before', async () => {
    const correlationId = `corr-${KSUID.randomSync().string}`;
    const from = await client.opened('100');
    const to = await client.opened('10');
    const started = performance.now();
    const requested = await client.transfer({ fromAccountId: from, toAccountId: to, amount: '67' }, { 'x-correlation-id': correlationId });
    expect(requested).toMatchObject({
      __typename: 'TransferMoneySuccess',
      moneyTransfer: { status: 'CREATED', amount: '67', currency: 'EUR', version: 1, failureReason: null, fromAccount: { id: from }, toAccount: { id: to } },
    });
    const id = requested.moneyTransfer.id as string;
    expect(id).toMatch(/^mt_[0-9A-Za-z]{27}$/);

    const transfer = await settled(id);
    const elapsed = performance.now() - started;
    console.info(`[measure] one transfer, request to COMPLETED: ${elapsed.toFixed(1)} ms`);
    expect(transfer).toMatchObject({ status: 'COMPLETED', failureReason: null, version: 3, fromAccount: { balance: '33' }, toAccount: { balance: '77' } });
    expect(await client.balance(from)).toBe('33');
    expect(await client.balance(to)).toBe('77');

    const [created, debited, completed] = await readStream(id);
    const debit = (await readStream(from)).at(-1)!;
    const credit = (await readStream(to)).at(-1)!;
    expect([created, debit, debited, credit, completed].map((e) => e!.__typename)).toEqual([
      'MoneyTransferCreated',
      'AccountDebitedForTransfer',
      'MoneyTransferDebited',
      'AccountCreditedForTransfer',
      'MoneyTransferCompleted',
    ]);
    expect(created).toMatchObject({ fromAccountId: from, toAccountId: to, amount: '67', currency: 'EUR' });
    expect(debit).toMatchObject({ transferId: id, amount: '67', version: 2 });
    expect(credit).toMatchObject({ transferId: id, amount: '67', version: 2 });
    expect(created!.metadata.causationId).toBe(created!.metadata.commandId);
    expect(debit.metadata.causationId).toBe(created!.id);
    expect(debited!.metadata.causationId).toBe(debit.id);
    expect(credit.metadata.causationId).toBe(debited!.id);
    expect(completed!.metadata.causationId).toBe(credit.id);
    for (const event of [created!, debit, debited!, credit, completed!]) {
      expect(event.metadata.correlationId).toBe(correlationId);
    }
    for (const event of [debit, debited!, credit, completed!]) expect(event.metadata.actor).toBe('process:money-transfer-saga');

    // Again from the account that now has 33: FAILED, nothing moves.
    const again = await client.transferred(from, to, '67');
    expect(await settled(again)).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS', version: 2 });
    expect(await client.balance(from)).toBe('33');
    expect(await client.balance(to)).toBe('77');
    const declined = (await readStream(from)).at(-1)!;
    expect(declined).toMatchObject({
      __typename: 'AccountTransferDebitDeclined',
      transferId: again,
      amount: '67',
      balance: '33',
      declineReason: 'INSUFFICIENT_FUNDS',
    });
    const failed = (await readStream(again)).at(-1)!;
    expect(failed).toMatchObject({ __typename: 'MoneyTransferFailed', reason: 'INSUFFICIENT_FUNDS' });
    expect(failed.metadata.causationId).toBe(declined.id);
  });

  it('fails the same transfer the other way (67 from the account with 10), balances unchanged', async () => {
    const rich = await client.opened('100');
    const poor = await client.opened('10');
    const id = await client.transferred(poor, rich, '67');
    expect(await settled(id)).toMatchObject({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS' });
    expect(await client.balance(rich)).toBe('100');
    expect(await client.balance(poor)).toBe('10');
    expect((await readStream(rich)).map((e) => e.type)).toEqual(['AccountOpened']);
  });

  it('fails a transfer the target cannot take, keeps the source whole, and settles the next ones', async () => {
    const full = '999999999999999999';
    const a = await client.opened(full);
    const b = await client.opened(full);
    const id = await client.transferred(a, b, '1');
    expect(await settled(id)).toMatchObject({ status: 'FAILED', failureReason: 'BALANCE_LIMIT_EXCEEDED' });
    expect([await client.balance(a), await client.balance(b)]).toEqual([full, full]);
    // Nothing stalled behind it.
    const c = await client.opened('5');
    expect(await settled(await client.transferred(c, a, '0.5'))).toMatchObject({ status: 'COMPLETED' });
    expect(await client.balance(a)).toBe('999999999999999999.5');
  });

  it('moves the exact amount, to the last fraction digit', async () => {
    const from = await client.opened('0.3');
    const to = await client.opened('0');
    await settled(await client.transferred(from, to, '0.1'));
    await settled(await client.transferred(from, to, '0.2'));
    expect(await client.balance(from)).toBe('0');
    expect(await client.balance(to)).toBe('0.3');
  });
});

describe('transferMoney errors', () => {
  it('answers VALIDATION_FAILED when both sides are the same account', async () => {
    const account = await client.opened('10');
    const id = newId('mt');
    const result = await client.transfer({ id, fromAccountId: account, toAccountId: account, amount: '1' });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'toAccountId' });
    expect(await client.moneyTransfer(id)).toBeNull();
  });

  it('answers VALIDATION_FAILED for accounts of different currencies', async () => {
    const id = newId('mt');
    const result = await client.transfer({
      id,
      fromAccountId: await client.opened('10', 'EUR'),
      toAccountId: await client.opened('10', 'USD'),
      amount: '1',
    });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect(await client.moneyTransfer(id)).toBeNull();
  });

  it.each(['0', '-3', '0.00'])('answers VALIDATION_FAILED for amount %s', async (amount) => {
    const id = newId('mt');
    const result = await client.transfer({ id, fromAccountId: await client.opened('10'), toAccountId: await client.opened('10'), amount });
    expect(result).toMatchObject({ __typename: 'ValidationError', field: 'amount' });
    expect(await client.moneyTransfer(id)).toBeNull();
  });

  it('answers VALIDATION_FAILED for a client id that is not a transfer id', async () => {
    const result = await client.transfer({ id: newId('acc'), fromAccountId: await client.opened('1'), toAccountId: await client.opened('1'), amount: '1' });
    expect(result).toMatchObject({ __typename: 'ValidationError', field: 'id' });
  });

  it.each([
    ['an unknown source', async () => [newId('acc'), await client.opened('10')]],
    ['an unknown target', async () => [await client.opened('10'), newId('acc')]],
    ['a target that is not an account id', async () => [await client.opened('10'), newId('tx')]],
  ])('answers NOT_FOUND for %s', async (_, accounts) => {
    const [fromAccountId, toAccountId] = await accounts();
    const id = newId('mt');
    expect(await client.transfer({ id, fromAccountId, toAccountId, amount: '1' })).toMatchObject({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
    });
    expect(await client.moneyTransfer(id)).toBeNull();
  });

  it('answers ILLEGAL_STATE when either account is closed at request time', async () => {
    const open = await client.opened('10');
    const closed = await client.opened('10');
    await client.close({ accountId: closed });
    for (const [fromAccountId, toAccountId] of [
      [closed, open],
      [open, closed],
    ]) {
      expect(await client.transfer({ fromAccountId, toAccountId, amount: '1' })).toMatchObject({
        __typename: 'IllegalStateError',
        code: 'ILLEGAL_STATE',
      });
    }
    expect(await client.balance(open)).toBe('10');
  });

  it('answers ALREADY_EXISTS for a client id used twice', async () => {
    const [a, b] = [await client.opened('10'), await client.opened('10')];
    const id = await client.transferred(a, b, '1', { id: newId('mt') });
    expect(await client.transfer({ id, fromAccountId: a, toAccountId: b, amount: '2' })).toMatchObject({
      __typename: 'AlreadyExistsError',
      code: 'ALREADY_EXISTS',
    });
    await settled(id);
    expect([await client.balance(a), await client.balance(b)]).toEqual(['9', '11']);
  });

  it('answers a repeated request with the first result and moves the money once', async () => {
    const [a, b] = [await client.opened('10'), await client.opened('0')];
    const input = { fromAccountId: a, toAccountId: b, amount: '4', idempotencyKey: uniqueKey() };
    const [first, second] = [await client.transfer(input), await client.transfer(input)];
    expect(first.__typename).toBe('TransferMoneySuccess');
    expect(second).toEqual(first);
    await settled(first.moneyTransfer.id);
    const third = await client.transfer(input);
    expect(third).toEqual(first);
    expect(await client.moneyTransfer(first.moneyTransfer.id)).toMatchObject({ status: 'COMPLETED', version: 3 });
    const page = await execute(app.yoga, `query ($id: ID!) { moneyTransfers(accountId: $id) { edges { node { id } } } }`, { id: a });
    expect(page.data!.moneyTransfers.edges).toHaveLength(1);
    expect([await client.balance(a), await client.balance(b)]).toEqual(['6', '4']);
  });
});

describe('money transfer queries', () => {
  it('travels in time with moneyTransferVersion through the saga’s steps', async () => {
    const id = await client.transferred(await client.opened('5'), await client.opened('5'), '5');
    await settled(id);
    const versions = [];
    for (const version of [1, 2, 3]) versions.push(await client.moneyTransfer(id, version));
    expect(versions.map((t) => [t!.version, t!.status])).toEqual([
      [1, 'CREATED'],
      [2, 'DEBITED'],
      [3, 'COMPLETED'],
    ]);
    expect(await client.moneyTransfer(id, 4)).toBeNull();
    expect(await client.moneyTransfer(newId('mt'), 1)).toBeNull();
    expect(await client.moneyTransfer(newId('acc'), 1)).toBeNull();
  });

  it('resolves node(id) to a MoneyTransfer', async () => {
    const id = await client.transferred(await client.opened('5'), await client.opened('5'), '1.5');
    const response = await execute(app.yoga, `query ($id: ID!) { node(id: $id) { __typename id ... on MoneyTransfer { amount } } }`, { id });
    expect(response.data!.node).toEqual({ __typename: 'MoneyTransfer', id, amount: '1.5' });
    expect((await execute(app.yoga, `query ($id: ID!) { node(id: $id) { id } }`, { id: newId('mt') })).data!.node).toBeNull();
  });

  it('pages an account’s transfers, from either side, in id order (account.transfers and moneyTransfers(accountId))', async () => {
    const [mine, other, third] = [await client.opened('100'), await client.opened('100'), await client.opened('100')];
    const expected = [
      await client.transferred(mine, other, '1'),
      await client.transferred(other, mine, '2'),
      await client.transferred(mine, third, '3'),
      await client.transferred(third, mine, '4'),
      await client.transferred(mine, other, '5'),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const unrelated = await client.transferred(other, third, '6');

    const viaAccount = `query ($id: ID!, $after: String) { account(id: $id) { transfers(first: 2, after: $after) {
      edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
    const viaList = `query ($id: ID!, $after: String) { moneyTransfers(first: 2, after: $after, accountId: $id) {
      edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    for (const [document, pick] of [
      [viaAccount, (data: Json) => data.account.transfers],
      [viaList, (data: Json) => data.moneyTransfers],
    ] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const response: GraphQLResponse = await execute(app.yoga, document, { id: mine, after });
        expect(response.errors).toBeUndefined();
        const { edges, pageInfo }: Json = pick(response.data!);
        expect(edges.length).toBeLessThanOrEqual(2);
        expect(pageInfo.hasPreviousPage).toBe(after !== null);
        seen.push(...edges.map((edge: Json) => edge.node.id));
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
    }
    expect(await client.moneyTransfer(unrelated)).toMatchObject({ id: unrelated });
  });
});

describe('moneyTransferChanged', () => {
  it('pushes DEBITED, COMPLETED in order after a client subscribes to a created transfer, one push per step', async () => {
    const [from, to] = [await client.opened('10'), await client.opened('0')];
    const id = newId('mt');
    // The saga's debit takes the source account's stream lock: held here, the transfer stays
    // CREATED until the subscription listens.
    const held = await holdTransaction();
    await held.run((tx) => tx`select pg_advisory_xact_lock(${lockSpaces.stream}::int, hashtext(${from}))`);
    await client.transferred(from, to, '10', { id });
    const listeners = app.services.relay.listenerCount;
    const watching = await watch(
      app.yoga,
      `subscription ($id: ID!) { moneyTransferChanged(id: $id) { id status version toAccount { id } } }`,
      { id },
      'moneyTransferChanged',
    );
    try {
      await waitFor(() => app.services.relay.listenerCount > listeners, 'the subscription to listen');
      await held.commit();
      await watching.until((last) => last?.version === 3, 'the COMPLETED push');
      expect(watching.pushed).toEqual([
        { id, status: 'DEBITED', version: 2, toAccount: { id: to } },
        { id, status: 'COMPLETED', version: 3, toAccount: { id: to } },
      ]);
    } finally {
      await watching.close();
    }
  });

  it('with afterVersion, pushes every later version, those committed before it started first: no race with the saga', async () => {
    const [from, to] = [await client.opened('10'), await client.opened('0')];
    const id = newId('mt');
    await client.transferred(from, to, '4', { id });
    // The saga may be anywhere by now, even done: the subscription still sees every step after version 1.
    const fromOne = await subscribeSse(app.yoga, `subscription ($id: ID!) { moneyTransferChanged(id: $id, afterVersion: 1) { status version } }`, { id });
    const fromZero = await subscribeSse(app.yoga, `subscription ($id: ID!) { moneyTransferChanged(id: $id, afterVersion: 0) { status version } }`, { id });
    const [afterOne, afterZero] = await Promise.all([fromOne.take(2), fromZero.take(3)]);
    await Promise.all([fromOne.close(), fromZero.close()]);
    expect(afterOne.map((payload) => payload.data!.moneyTransferChanged)).toEqual([
      { status: 'DEBITED', version: 2 },
      { status: 'COMPLETED', version: 3 },
    ]);
    expect(afterZero.map((payload) => payload.data!.moneyTransferChanged.version)).toEqual([1, 2, 3]);
    const negative = await subscribeSse(app.yoga, `subscription ($id: ID!) { moneyTransferChanged(id: $id, afterVersion: -1) { version } }`, { id });
    const [refused] = await negative.take(1);
    await negative.close();
    expect(refused!.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('answers a transfer id that names no transfer with NOT_FOUND', async () => {
    const subscription = await subscribeSse(app.yoga, `subscription ($id: ID!) { moneyTransferChanged(id: $id) { id } }`, { id: newId('mt') });
    const [answer] = await subscription.take(1);
    await subscription.close();
    expect(answer!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
