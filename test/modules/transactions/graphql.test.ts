import { describe, expect, it } from 'vitest';
import { useApp } from '../../helpers/app.js';
import { execute } from '../../helpers/graphql.js';

const app = await useApp();

const create = `mutation ($input: CreateTransactionInput!) {
  createTransaction(input: $input) {
    __typename
    ... on CreateTransactionSuccess { transaction { id status currency amount doneBy version events { type version } } }
    ... on Error { code message }
  }
}`;

const complete = `mutation ($input: CompleteTransactionInput!) {
  completeTransaction(input: $input) {
    __typename
    ... on CompleteTransactionSuccess { transaction { id status doneBy version } }
    ... on Error { code message }
    ... on ConcurrencyConflictError { expectedVersion actualVersion }
  }
}`;

describe('transactions over GraphQL', () => {
  it('creates and completes a transaction', async () => {
    const created = await execute(app.yoga, create, { input: { currency: 'EUR', amount: '12.50' } });
    expect(created.errors).toBeUndefined();
    const transaction = created.data!.createTransaction.transaction;
    expect(transaction).toMatchObject({ status: 'PROCESSING', currency: 'EUR', amount: '12.5', doneBy: null, version: 1 });
    expect(transaction.id).toMatch(/^tx_[0-9A-Za-z]{27}$/);
    expect(transaction.events).toEqual([{ type: 'TransactionCreated', version: 1 }]);

    const completed = await execute(app.yoga, complete, { input: { id: transaction.id, doneBy: 'alice' } });
    expect(completed.data!.completeTransaction).toEqual({
      __typename: 'CompleteTransactionSuccess',
      transaction: { id: transaction.id, status: 'COMPLETED', doneBy: 'alice', version: 2 },
    });
  });
});
