import { describe, it } from 'vitest';
import type { MoneyTransferEvent } from '../../../src/modules/money-transfers/money-transfer.js';
import { evolveMoneyTransferView } from '../../../src/modules/money-transfers/projection.js';
import { occurredAt, viewSpec } from '../../helpers/view.js';

const id = 'mt_view';
const { given } = viewSpec(evolveMoneyTransferView, id);
const created: MoneyTransferEvent = {
  type: 'MoneyTransferCreated',
  data: { fromAccountId: 'acc_a', toAccountId: 'acc_b', amount: '67', currency: 'EUR' },
};
const debited: MoneyTransferEvent = { type: 'MoneyTransferDebited', data: {} };
const completed: MoneyTransferEvent = { type: 'MoneyTransferCompleted', data: {} };
const failed = (reason: 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED' | 'BALANCE_LIMIT_EXCEEDED'): MoneyTransferEvent => ({
  type: 'MoneyTransferFailed',
  data: { reason },
});

describe('the money_transfers row (evolveMoneyTransferView)', () => {
  it('is CREATED by MoneyTransferCreated', () =>
    given([created]).then({
      id,
      fromAccountId: 'acc_a',
      toAccountId: 'acc_b',
      amount: '67',
      currency: 'EUR',
      status: 'CREATED',
      failureReason: null,
      version: 1,
      createdAt: occurredAt(0),
      updatedAt: occurredAt(0),
    }));

  it('goes CREATED → DEBITED → COMPLETED', () =>
    given([created, debited, completed]).thenMatches({ status: 'COMPLETED', failureReason: null, version: 3, updatedAt: occurredAt(2) }));

  it('fails from CREATED with its reason', () =>
    given([created, failed('INSUFFICIENT_FUNDS')]).thenMatches({ status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS', version: 2 }));

  it('fails from DEBITED only when the target refused the credit (the source is refunded)', () =>
    given([created, debited, failed('BALANCE_LIMIT_EXCEEDED')]).thenMatches({ status: 'FAILED', failureReason: 'BALANCE_LIMIT_EXCEEDED', version: 3 }));

  it('keeps the status on a transition that cannot follow it, counting the version', () =>
    given([created, debited, failed('ACCOUNT_CLOSED'), completed]).thenMatches({ status: 'COMPLETED', failureReason: null, version: 4 }));
});
