import { describe, it } from 'vitest';
import { evolveTransactionView } from '../../../src/modules/transactions/projection.js';
import type { TransactionEvent } from '../../../src/modules/transactions/transaction.js';
import { occurredAt, viewSpec } from '../../helpers/view.js';

const id = 'tx_view';
const { given } = viewSpec(evolveTransactionView, id);
const created: TransactionEvent = { type: 'TransactionCreated', data: { currency: 'EUR', amount: '12.5' } };

describe('the transaction_views row (evolveTransactionView)', () => {
  it('is PROCESSING after TransactionCreated', () =>
    given([created]).then({
      id,
      version: 1,
      status: 'PROCESSING',
      currency: 'EUR',
      amount: '12.5',
      doneBy: null,
      createdAt: occurredAt(0),
      updatedAt: occurredAt(0),
    }));

  it('is COMPLETED, with who did it, after TransactionCompleted', () =>
    given([created, { type: 'TransactionCompleted', data: { doneBy: 'ada' } }]).thenMatches({
      status: 'COMPLETED',
      doneBy: 'ada',
      version: 2,
      createdAt: occurredAt(0),
      updatedAt: occurredAt(1),
    }));

  it('has no row for a completion without a creation', () => given([{ type: 'TransactionCompleted', data: { doneBy: 'ada' } }]).then(undefined));
});
