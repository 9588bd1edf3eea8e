import { IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { replay } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import type { ProcessManager, Trigger } from '../../eventstore/process-manager.js';
import type { RecordedEvent } from '../../eventstore/types.js';
import type { AccountEvent } from '../accounts/account.js';
import { accountAggregate } from '../accounts/aggregate.js';
import { balanceLimit } from '../accounts/account.js';
import { findAccountView } from '../accounts/projection.js';
import { Decimal } from '../../lib/decimal.js';
import { moneyTransferDecider, type MoneyTransferEvent, type Terms } from './money-transfer.js';
import { moneyTransferAggregate } from './aggregate.js';

const replayTransfer = replay(moneyTransferDecider);

type SagaStep = (session: PostgresSession, trigger: Trigger) => Promise<void>;
type Of<E extends AccountEvent | MoneyTransferEvent, T extends E['type']> = RecordedEvent<Extract<E, { type: T }>>;


/** Why the target cannot take the transfer now, if it cannot. */
const targetRefusal = async (session: PostgresSession, toAccountId: string, amount: string) => {
  const target = await findAccountView(session.tx, toAccountId);
  if (!target || target.status === 'CLOSED') return 'ACCOUNT_CLOSED' as const;
  if (new Decimal(target.balance).plus(amount).gte(balanceLimit)) return 'BALANCE_LIMIT_EXCEEDED' as const;
  return undefined;
};

/**
 * Created → debit the source, unless the target is closed or too full already (then fail
 * without moving money). The target may still fill up before its credit: then it declines, and
 * the source is refunded (onCreditDeclined).
 */
const onCreated: SagaStep = async (session, trigger) => {
  const event = trigger.event as Of<MoneyTransferEvent, 'MoneyTransferCreated'>;
  const refusal = await targetRefusal(session, event.data.toAccountId, event.data.amount);
  if (refusal) {
    await moneyTransferAggregate.handleIn(
      session,
      event.aggregateId,
      { type: 'MarkFailed', reason: refusal },
      trigger.command('markMoneyTransferFailed'),
    );
    return;
  }
  await accountAggregate.handleIn(
    session,
    event.data.fromAccountId,
    { type: 'DebitForTransfer', transferId: event.aggregateId, amount: event.data.amount },
    trigger.command('debitForTransfer'),
  );
};

const onDebited: SagaStep = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountDebitedForTransfer'>;
  await moneyTransferAggregate.handleIn(session, event.data.transferId, { type: 'MarkDebited' }, trigger.command('markMoneyTransferDebited'));
};

const onDebitDeclined: SagaStep = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountTransferDebitDeclined'>;
  await moneyTransferAggregate.handleIn(
    session,
    event.data.transferId,
    { type: 'MarkFailed', reason: event.data.reason },
    trigger.command('markMoneyTransferFailed'),
  );
};

/** Runs `then` with the transfer's terms, unless no such transfer exists (then there is nothing to do). */
const withTransfer = async (session: PostgresSession, transferId: string, then: (transfer: Terms) => Promise<unknown>) => {
  const { state } = await replayTransfer(session, transferId);
  if (state.status !== 'NONE') await then(state);
};

/**
 * Debited → credit the target, even when it closed meanwhile: the money has left the source,
 * and refusing it here would strand it. An account closed with transfers in flight still
 * receives them; money is never lost.
 */
const onTransferDebited: SagaStep = (session, trigger) =>
  withTransfer(session, trigger.event.aggregateId, (transfer) =>
    accountAggregate.handleIn(
      session,
      transfer.toAccountId,
      { type: 'CreditForTransfer', transferId: trigger.event.aggregateId, amount: transfer.amount },
      trigger.command('creditForTransfer'),
    ),
  );

const onCredited: SagaStep = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountCreditedForTransfer'>;
  await moneyTransferAggregate.handleIn(session, event.data.transferId, { type: 'MarkCompleted' }, trigger.command('markMoneyTransferCompleted'));
};

/** The target refused the credit (its balance would reach 10^18): the money goes back to the source. */
const onCreditDeclined: SagaStep = (session, trigger) => {
  const { transferId } = (trigger.event as Of<AccountEvent, 'AccountTransferCreditDeclined'>).data;
  return withTransfer(session, transferId, (transfer) =>
    accountAggregate.handleIn(
      session,
      transfer.fromAccountId,
      { type: 'RefundTransfer', transferId, amount: transfer.amount },
      trigger.command('refundTransfer'),
    ),
  );
};

const onRefunded: SagaStep = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountTransferRefunded'>;
  await moneyTransferAggregate.handleIn(
    session,
    event.data.transferId,
    { type: 'MarkFailed', reason: 'BALANCE_LIMIT_EXCEEDED' },
    trigger.command('markMoneyTransferFailed'),
  );
};

const steps: Record<string, SagaStep> = {
  MoneyTransferCreated: onCreated,
  AccountDebitedForTransfer: onDebited,
  AccountTransferDebitDeclined: onDebitDeclined,
  MoneyTransferDebited: onTransferDebited,
  AccountCreditedForTransfer: onCredited,
  AccountTransferCreditDeclined: onCreditDeclined,
  AccountTransferRefunded: onRefunded,
};

/**
 * The money-transfer saga: CREATED → debit the source → DEBITED → credit the target →
 * COMPLETED, or CREATED → FAILED, or (a target that filled up meanwhile declines the credit)
 * DEBITED → refund the source → FAILED. Each step runs in the transaction that moves the saga's
 * checkpoint, and every account step is idempotent per transfer id, so a crash or redelivery
 * never moves money twice.
 */
export const moneyTransferSaga: ProcessManager = {
  name: 'money-transfer-saga',
  handles: Object.keys(steps),
  // One process per transfer: account events name theirs in `transferId`.
  processOf: (event) =>
    typeof event.data.transferId === 'string' ? event.data.transferId : event.aggregateId,
  async handle(session, trigger) {
    const step = steps[trigger.event.type];
    if (!step) return;
    try {
      await step(session, trigger);
    } catch (error) {
      // The recorded state wins over a trigger that no longer fits it (a transfer or account
      // that does not exist, a step the transfer is past): there is nothing to do, and retrying
      // would stall every transfer behind it. Nothing was written: decide threw before appending.
      if (!(error instanceof NotFoundError || error instanceof IllegalStateError)) throw error;
      trigger.logger.warn('money-transfer saga dropped a trigger it cannot act on', {
        eventId: trigger.event.id,
        type: trigger.event.type,
        aggregateId: trigger.event.aggregateId,
        code: error.code,
        reason: error.message,
      });
    }
  },
};
