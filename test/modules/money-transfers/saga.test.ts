import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import type { Trigger } from '../../../src/eventstore/process-manager.js';
import type { RecordedEvent } from '../../../src/eventstore/types.js';
import type { Logger } from '../../../src/logger.js';
import { moneyTransferSaga } from '../../../src/modules/money-transfers/saga.js';
import { useApp, useIsolatedDatabase } from '../../helpers/app.js';
import { accountClient } from '../accounts/operations.js';

// No process manager runs here: each test hands the saga its triggers, one step at a time, so it
// can put a command (closing an account) between two steps.
const app = await useApp({ databaseUrl: await useIsolatedDatabase(), processManagers: [] });
const { store } = app.services;
const client = accountClient(app.yoga);

const dropped: string[] = [];
const logger: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message) => void dropped.push(message) };

const triggerOf = (event: RecordedEvent): Trigger => ({
  event,
  logger,
  command: (commandName) => ({
    commandName,
    commandId: newId('cmd'),
    now: new Date(),
    correlationId: event.metadata.correlationId,
    causationId: event.id,
    actor: 'process:test',
  }),
});

/** The transfer's stream and both accounts' streams. */
const touchedStreams = async (event: RecordedEvent): Promise<string[]> => {
  const transfer = (event.data as { transferId?: string }).transferId ?? event.aggregateId;
  const [created] = await store.readStream(transfer, { limit: 1 });
  return [transfer, String(created!.data.fromAccountId), String(created!.data.toAccountId)];
};

const eventsOf = async (streams: readonly string[]) => (await Promise.all(streams.map((id) => store.readStream(id)))).flat();

/** Runs one saga step for `event` in its own transaction, as the runner would; returns what it appended. */
const step = async (event: RecordedEvent): Promise<RecordedEvent[]> => {
  const streams = await touchedStreams(event);
  const before = new Set((await eventsOf(streams)).map((e) => e.id));
  await store.transaction((session) => moneyTransferSaga.handle(session, triggerOf(event)));
  const appended = (await eventsOf(streams)).filter((e) => !before.has(e.id));
  for (const e of appended) expect(e.metadata).toMatchObject({ causationId: event.id, correlationId: event.metadata.correlationId });
  return appended;
};

const lastOf = async (id: string) => (await store.readStream(id)).at(-1)!;

const requested = async (fromBalance = '100', toBalance = '0', amount = '30') => {
  const from = await client.opened(fromBalance);
  const to = await client.opened(toBalance);
  const transfer = await client.transferred(from, to, amount);
  return { from, to, transfer, created: await lastOf(transfer) };
};

describe('the money-transfer saga, step by step', () => {
  it('fails the transfer with ACCOUNT_CLOSED, without debiting, when the target closed after the request', async () => {
    const { from, to, transfer, created } = await requested();
    await client.close({ accountId: to });
    const appended = await step(created);
    expect(appended.map((e) => [e.aggregateId, e.type, e.data])).toEqual([
      [transfer, 'MoneyTransferFailed', { reason: 'ACCOUNT_CLOSED' }],
    ]);
    expect(await client.moneyTransfer(transfer)).toMatchObject({ status: 'FAILED', failureReason: 'ACCOUNT_CLOSED' });
    expect((await store.readStream(from)).map((e) => e.type)).toEqual(['AccountOpened']);
    expect([await client.balance(from), await client.balance(to)]).toEqual(['100', '0']);
  });

  it('fails with ACCOUNT_CLOSED through a declined debit when the source closed after the request', async () => {
    const { from, to, transfer, created } = await requested();
    await client.close({ accountId: from });
    const [declined] = await step(created);
    expect(declined).toMatchObject({
      aggregateId: from,
      type: 'AccountTransferDebitDeclined',
      data: { transferId: transfer, amount: '30', balance: '100', reason: 'ACCOUNT_CLOSED' },
    });
    expect(await step(declined!)).toMatchObject([{ aggregateId: transfer, type: 'MoneyTransferFailed', data: { reason: 'ACCOUNT_CLOSED' } }]);
    expect([await client.balance(from), await client.balance(to)]).toEqual(['100', '0']);
  });

  it('still credits a target that closed while the transfer was in flight: money is never lost', async () => {
    const { from, to, transfer, created } = await requested();
    const [debit] = await step(created);
    expect(debit).toMatchObject({ aggregateId: from, type: 'AccountDebitedForTransfer' });
    const [debited] = await step(debit!);
    expect(debited).toMatchObject({ aggregateId: transfer, type: 'MoneyTransferDebited' });
    expect(await client.close({ accountId: to })).toMatchObject({ __typename: 'CloseAccountSuccess' });
    const [credit] = await step(debited!);
    expect(credit).toMatchObject({ aggregateId: to, type: 'AccountCreditedForTransfer', data: { transferId: transfer, amount: '30' } });
    expect(await step(credit!)).toMatchObject([{ aggregateId: transfer, type: 'MoneyTransferCompleted' }]);
    expect(await client.account(to)).toMatchObject({ status: 'CLOSED', balance: '30' });
    expect(await client.balance(from)).toBe('70');
    expect(await client.moneyTransfer(transfer)).toMatchObject({ status: 'COMPLETED', version: 3 });
  });

  const nearLimit = '999999999999999999';

  it('fails with BALANCE_LIMIT_EXCEEDED, without debiting, when the target is too full already', async () => {
    const { from, to, transfer, created } = await requested(nearLimit, nearLimit, '1');
    expect(await step(created)).toMatchObject([
      { aggregateId: transfer, type: 'MoneyTransferFailed', data: { reason: 'BALANCE_LIMIT_EXCEEDED' } },
    ]);
    expect([await client.balance(from), await client.balance(to)]).toEqual([nearLimit, nearLimit]);
    expect(await client.moneyTransfer(transfer)).toMatchObject({ status: 'FAILED', failureReason: 'BALANCE_LIMIT_EXCEEDED' });
  });

  it('refunds the source and fails when the target filled up between the debit and the credit', async () => {
    const { from, to, transfer, created } = await requested('100', '999999999999999000', '30');
    const [debit] = await step(created);
    const [debited] = await step(debit!);
    expect(await client.credit({ accountId: to, amount: '990' })).toMatchObject({ __typename: 'CreditAccountSuccess' });
    const [declined] = await step(debited!);
    expect(declined).toMatchObject({
      aggregateId: to,
      type: 'AccountTransferCreditDeclined',
      data: { transferId: transfer, amount: '30', balance: '999999999999999990' },
    });
    const [refund] = await step(declined!);
    expect(refund).toMatchObject({ aggregateId: from, type: 'AccountTransferRefunded', data: { transferId: transfer, amount: '30' } });
    expect(await step(refund!)).toMatchObject([
      { aggregateId: transfer, type: 'MoneyTransferFailed', data: { reason: 'BALANCE_LIMIT_EXCEEDED' } },
    ]);
    expect([await client.balance(from), await client.balance(to)]).toEqual(['100', '999999999999999990']);
    expect(await client.moneyTransfer(transfer)).toMatchObject({ status: 'FAILED', failureReason: 'BALANCE_LIMIT_EXCEEDED', version: 3 });
    // Redelivered, each step appends nothing more: the refund happens once.
    for (const event of [debited!, declined!, refund!]) expect(await step(event)).toEqual([]);
    expect(await client.balance(from)).toBe('100');
  });

  it('appends nothing when every trigger is delivered twice: money moves once', async () => {
    const { from, to, transfer, created } = await requested('50', '5', '20');
    let event = created;
    for (const expected of ['AccountDebitedForTransfer', 'MoneyTransferDebited', 'AccountCreditedForTransfer', 'MoneyTransferCompleted']) {
      const appended = await step(event);
      expect(appended.map((e) => e.type)).toEqual([expected]);
      expect(await step(event), `a redelivered ${event.type} appends nothing`).toEqual([]);
      if (expected === 'MoneyTransferCompleted') break;
      event = appended[0]!;
    }
    expect([await client.balance(from), await client.balance(to)]).toEqual(['30', '25']);
    expect((await store.readStream(from)).map((e) => e.type)).toEqual(['AccountOpened', 'AccountDebitedForTransfer']);
    expect((await store.readStream(to)).map((e) => e.type)).toEqual(['AccountOpened', 'AccountCreditedForTransfer']);
    expect((await store.readStream(transfer)).map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('ignores a trigger the transfer is past (a debit reported for a failed transfer) without writing', async () => {
    const { from, to, transfer, created } = await requested();
    await client.close({ accountId: to });
    await step(created);
    const stray = { ...created, id: newId('evt'), aggregateId: from, type: 'AccountDebitedForTransfer', data: { transferId: transfer, amount: '30' } };
    const warnings = dropped.length;
    await expect(store.transaction((session) => moneyTransferSaga.handle(session, triggerOf(stray)))).resolves.toBeUndefined();
    expect(dropped.slice(warnings)).toEqual(['money-transfer saga dropped a trigger it cannot act on']);
    expect((await store.readStream(transfer)).map((e) => e.type)).toEqual(['MoneyTransferCreated', 'MoneyTransferFailed']);
  });
});
