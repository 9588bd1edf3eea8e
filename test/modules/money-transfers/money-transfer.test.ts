import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../../src/eventstore/errors.js';
import {
  moneyTransferDecider,
  type AccountSummary,
  type MoneyTransferCommand,
  type MoneyTransferEvent,
} from '../../../src/modules/money-transfers/money-transfer.js';
import { deciderSpec } from '../../helpers/decider.js';

const { given } = deciderSpec(moneyTransferDecider);

const open = (currency = 'EUR'): AccountSummary => ({ status: 'OPEN', currency });
const closedAccount = (currency = 'EUR'): AccountSummary => ({ status: 'CLOSED', currency });

const create = (change: Partial<Extract<MoneyTransferCommand, { type: 'CreateMoneyTransfer' }>> = {}): MoneyTransferCommand => ({
  type: 'CreateMoneyTransfer',
  fromAccountId: 'acc_a',
  toAccountId: 'acc_b',
  amount: '67',
  from: open(),
  to: open(),
  ...change,
});

const created: MoneyTransferEvent = {
  type: 'MoneyTransferCreated',
  data: { fromAccountId: 'acc_a', toAccountId: 'acc_b', amount: '67', currency: 'EUR' },
};
const debited: MoneyTransferEvent = { type: 'MoneyTransferDebited', data: {} };
const completed: MoneyTransferEvent = { type: 'MoneyTransferCompleted', data: {} };
const failed = (reason: 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED' = 'INSUFFICIENT_FUNDS'): MoneyTransferEvent => ({
  type: 'MoneyTransferFailed',
  data: { reason },
});

const terms = { fromAccountId: 'acc_a', toAccountId: 'acc_b', amount: '67', currency: 'EUR' };

describe('money transfer decider: create', () => {
  it('creates a transfer in the accounts’ currency, amount normalised', () =>
    given([]).when(create({ amount: '67.00' })).then([created]));

  it('refuses the same account on both sides with VALIDATION_FAILED', () =>
    given([]).when(create({ toAccountId: 'acc_a' })).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it.each(['0', '-1', '0.000'])('refuses amount %s with VALIDATION_FAILED', (amount) =>
    given([]).when(create({ amount })).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('answers NOT_FOUND when either account does not exist', () => {
    given([]).when(create({ from: undefined })).thenThrows(NotFoundError, 'NOT_FOUND');
    given([]).when(create({ to: undefined })).thenThrows(NotFoundError, 'NOT_FOUND');
  });

  it('refuses accounts of different currencies with VALIDATION_FAILED', () =>
    given([]).when(create({ to: open('USD') })).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('answers ILLEGAL_STATE when an account is closed at request time', () => {
    given([]).when(create({ from: closedAccount() })).thenThrows(IllegalStateError, 'ILLEGAL_STATE');
    given([]).when(create({ to: closedAccount() })).thenThrows(IllegalStateError, 'ILLEGAL_STATE');
  });

  it('refuses to create twice', () => given([created]).when(create()).thenThrows(AlreadyExistsError));
});

describe('money transfer decider: saga steps', () => {
  it('moves CREATED → DEBITED → COMPLETED', () => {
    given([created]).when({ type: 'MarkDebited' }).then([debited]);
    given([created, debited]).when({ type: 'MarkCompleted' }).then([completed]);
  });

  it('moves CREATED → FAILED with a reason', () =>
    given([created]).when({ type: 'MarkFailed', reason: 'ACCOUNT_CLOSED' }).then([failed('ACCOUNT_CLOSED')]));

  it('appends nothing for a step already taken', () => {
    given([created, debited]).when({ type: 'MarkDebited' }).then([]);
    given([created, debited, completed]).when({ type: 'MarkDebited' }).then([]);
    given([created, debited, completed]).when({ type: 'MarkCompleted' }).then([]);
    given([created, failed()]).when({ type: 'MarkFailed', reason: 'INSUFFICIENT_FUNDS' }).then([]);
  });

  it('refuses steps that do not follow with ILLEGAL_STATE', () => {
    given([created]).when({ type: 'MarkCompleted' }).thenThrows(IllegalStateError);
    given([created, failed()]).when({ type: 'MarkDebited' }).thenThrows(IllegalStateError);
    given([created, failed()]).when({ type: 'MarkCompleted' }).thenThrows(IllegalStateError);
    given([created, debited]).when({ type: 'MarkFailed', reason: 'INSUFFICIENT_FUNDS' }).thenThrows(IllegalStateError);
    given([created, debited, completed]).when({ type: 'MarkFailed', reason: 'ACCOUNT_CLOSED' }).thenThrows(IllegalStateError);
  });

  it('answers NOT_FOUND for a step on a transfer that does not exist', () => {
    given([]).when({ type: 'MarkDebited' }).thenThrows(NotFoundError);
    given([]).when({ type: 'MarkCompleted' }).thenThrows(NotFoundError);
    given([]).when({ type: 'MarkFailed', reason: 'ACCOUNT_CLOSED' }).thenThrows(NotFoundError);
  });
});

describe('money transfer decider: replay ignores transitions out of order', () => {
  it('ignores Completed before Debited', () => given([created, completed]).thenState({ status: 'CREATED', ...terms }));

  it('ignores a repeated Debited', () => {
    given([created, debited, debited]).thenState({ status: 'DEBITED', ...terms });
    given([created, debited, completed, debited]).thenState({ status: 'COMPLETED', ...terms });
  });

  it('ignores Failed after Completed, and after Debited', () => {
    given([created, debited, completed, failed()]).thenState({ status: 'COMPLETED', ...terms });
    given([created, debited, failed()]).thenState({ status: 'DEBITED', ...terms });
  });

  it('ignores anything after Failed, and a second Created', () => {
    given([created, failed('ACCOUNT_CLOSED'), debited, completed]).thenState({
      status: 'FAILED',
      failureReason: 'ACCOUNT_CLOSED',
      ...terms,
    });
    const other: MoneyTransferEvent = { type: 'MoneyTransferCreated', data: { ...terms, amount: '1' } };
    given([created, other]).thenState({ status: 'CREATED', ...terms });
  });

  it('ignores steps before Created', () => given([debited, completed, failed()]).thenState({ status: 'NONE' }));

  it('still decides from the state replay kept', () => {
    expect(() => moneyTransferDecider.decide({ type: 'MarkCompleted' }, { status: 'CREATED', ...terms })).toThrow(
      IllegalStateError,
    );
    given([created, completed]).when({ type: 'MarkDebited' }).then([debited]);
  });
});
