import { IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { replay } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import type { ProcessManager, Trigger } from '../../eventstore/process-manager.js';
import { sessionStore } from '../../eventstore/repository.js';
import type { RecordedEvent } from '../../eventstore/types.js';
import type { AccountEvent } from '../accounts/account.js';
import { accountRepository } from '../accounts/commands.js';
import { findAccountView } from '../accounts/projection.js';
import { moneyTransferDecider, type MoneyTransferEvent } from './money-transfer.js';
import { moneyTransferRepository } from './commands.js';

const replayTransfer = replay(moneyTransferDecider);

type Step = (session: PostgresSession, trigger: Trigger) => Promise<void>;
type Of<E extends AccountEvent | MoneyTransferEvent, T extends E['type']> = RecordedEvent<Extract<E, { type: T }>>;

/** Repositories bound to the step's session: every write commits with the saga's checkpoint. */
const accountsIn = (session: PostgresSession) => accountRepository(sessionStore(session)).in(session);
const transfersIn = (session: PostgresSession) => moneyTransferRepository(sessionStore(session)).in(session);

/** Created → debit the source, unless the target is closed already (then fail without moving money). */
const onCreated: Step = async (session, trigger) => {
  const event = trigger.event as Of<MoneyTransferEvent, 'MoneyTransferCreated'>;
  const target = await findAccountView(session.tx, event.data.toAccountId);
  if (!target || target.status === 'CLOSED') {
    await transfersIn(session).update(
      event.aggregateId,
      { type: 'MarkFailed', reason: 'ACCOUNT_CLOSED' },
      trigger.command('MarkMoneyTransferFailed'),
    );
    return;
  }
  await accountsIn(session).update(
    event.data.fromAccountId,
    { type: 'DebitForTransfer', transferId: event.aggregateId, amount: event.data.amount },
    trigger.command('DebitForTransfer'),
  );
};

const onDebited: Step = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountDebitedForTransfer'>;
  await transfersIn(session).update(event.data.transferId, { type: 'MarkDebited' }, trigger.command('MarkMoneyTransferDebited'));
};

const onDebitDeclined: Step = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountTransferDebitDeclined'>;
  await transfersIn(session).update(
    event.data.transferId,
    { type: 'MarkFailed', reason: event.data.reason },
    trigger.command('MarkMoneyTransferFailed'),
  );
};

/**
 * Debited → credit the target, even when it closed meanwhile: the money has left the source,
 * and refusing it here would strand it. An account closed with transfers in flight still
 * receives them; money is never lost.
 */
const onTransferDebited: Step = async (session, trigger) => {
  const { state } = await replayTransfer(session, trigger.event.aggregateId);
  if (state.status === 'NONE') return;
  await accountsIn(session).update(
    state.toAccountId,
    { type: 'CreditForTransfer', transferId: trigger.event.aggregateId, amount: state.amount },
    trigger.command('CreditForTransfer'),
  );
};

const onCredited: Step = async (session, trigger) => {
  const event = trigger.event as Of<AccountEvent, 'AccountCreditedForTransfer'>;
  await transfersIn(session).update(event.data.transferId, { type: 'MarkCompleted' }, trigger.command('MarkMoneyTransferCompleted'));
};

const steps: Record<string, Step> = {
  MoneyTransferCreated: onCreated,
  AccountDebitedForTransfer: onDebited,
  AccountTransferDebitDeclined: onDebitDeclined,
  MoneyTransferDebited: onTransferDebited,
  AccountCreditedForTransfer: onCredited,
};

/**
 * The money-transfer saga: CREATED → debit the source → DEBITED → credit the target →
 * COMPLETED, or CREATED → FAILED. Each step runs in the transaction that moves the saga's
 * checkpoint, and every account step is idempotent per transfer id, so a crash or redelivery
 * never moves money twice.
 */
export const moneyTransferSaga: ProcessManager = {
  name: 'money-transfer-saga',
  handles: Object.keys(steps),
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
