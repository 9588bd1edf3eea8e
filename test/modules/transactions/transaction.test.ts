import { describe, it } from 'vitest';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../../src/eventstore/errors.js';
import { transactionDecider, type TransactionEvent } from '../../../src/modules/transactions/transaction.js';
import { deciderSpec } from '../../helpers/decider.js';

const { given } = deciderSpec(transactionDecider);
const created = (amount = '10.5', currency = 'EUR'): TransactionEvent => ({
  type: 'TransactionCreated',
  data: { currency, amount },
});
const completed = (doneBy = 'alice'): TransactionEvent => ({ type: 'TransactionCompleted', data: { doneBy } });

describe('transaction decider', () => {
  it('creates a transaction', () =>
    given([]).when({ type: 'CreateTransaction', currency: 'EUR', amount: '10.5' }).then([created()]));

  it('refuses to create twice', () =>
    given([created()])
      .when({ type: 'CreateTransaction', currency: 'EUR', amount: '1' })
      .thenThrows(AlreadyExistsError, 'ALREADY_EXISTS'));

  it('refuses an empty currency', () =>
    given([]).when({ type: 'CreateTransaction', currency: '', amount: '1' }).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('refuses a currency that is not an ISO code', () =>
    given([]).when({ type: 'CreateTransaction', currency: 'euro', amount: '1' }).thenThrows(ValidationError));

  it('refuses a zero or negative amount', () => {
    given([]).when({ type: 'CreateTransaction', currency: 'EUR', amount: '0' }).thenThrows(ValidationError);
    given([]).when({ type: 'CreateTransaction', currency: 'EUR', amount: '-0.01' }).thenThrows(ValidationError);
  });

  it('completes a processing transaction', () =>
    given([created()]).when({ type: 'CompleteTransaction', doneBy: 'bob' }).then([completed('bob')]));

  it('cannot complete before create', () =>
    given([]).when({ type: 'CompleteTransaction', doneBy: 'bob' }).thenThrows(NotFoundError, 'NOT_FOUND'));

  it('cannot complete twice', () =>
    given([created(), completed()])
      .when({ type: 'CompleteTransaction', doneBy: 'bob' })
      .thenThrows(IllegalStateError, 'ILLEGAL_STATE'));

  it('requires doneBy', () =>
    given([created()]).when({ type: 'CompleteTransaction', doneBy: ' ' }).thenThrows(ValidationError));

  it('evolves to the completed state', () =>
    given([created('3', 'USD'), completed('carol')]).thenState({
      status: 'COMPLETED',
      currency: 'USD',
      amount: '3',
      doneBy: 'carol',
    }));
});
