import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { builder } from '../../graphql/builder.js';
import { commandField } from '../../graphql/command-field.js';
import { eventType } from '../../graphql/event.js';
import { clientIdOrNew, existingId } from '../../graphql/input.js';
import { projectionNode } from '../../graphql/projection-node.js';
import { transactionAggregate } from './aggregate.js';
import { evolveTransactionView, transactionViews } from './projection.js';
import { idPrefix, type TransactionEvent } from './transaction.js';

const TransactionStatus = builder.enumType('TransactionStatus', {
  description: 'Where a transaction is in its life.',
  values: {
    PROCESSING: { description: 'Created, not yet completed.' },
    COMPLETED: { description: 'Completed by someone (`doneBy`).' },
  },
});

export const TransactionType = projectionNode({
  name: 'Transaction',
  description: 'A transaction (from es-go): created with an amount, later completed by someone.',
  idPrefix,
  article: 'A',
  noun: { one: 'transaction', many: 'transactions' },
  table: transactionViews,
  evolve: evolveTransactionView,
  fields: (t) => ({
    status: t.field({ type: TransactionStatus, description: 'PROCESSING or COMPLETED.', resolve: (v) => v.status }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code, e.g. `EUR`.' }),
    amount: t.field({ type: 'Decimal', description: 'Exact amount, greater than zero.', resolve: (v) => v.amount }),
    doneBy: t.exposeString('doneBy', { nullable: true, description: 'Who completed it; null while processing.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
  }),
  list: { description: 'All transactions, paged.' },
  changed: 'The transaction after each committed change, from now on; versions only go up.',
});

type Of<T extends TransactionEvent['type']> = Extract<TransactionEvent, { type: T }>;

eventType<Of<'TransactionCreated'>>('TransactionCreated', 'A transaction was created.', (t) => ({
  currency: t.string({ description: 'ISO 4217 code.', resolve: (e) => e.data.currency }),
  amount: t.field({ type: 'Decimal', description: 'Exact amount.', resolve: (e) => e.data.amount }),
}));

eventType<Of<'TransactionCompleted'>>('TransactionCompleted', 'A transaction was completed.', (t) => ({
  doneBy: t.string({ description: 'Who completed it.', resolve: (e) => e.data.doneBy }),
}));

const key = { description: 'Retries with the same key return the first result.' };

const CreateTransactionInput = builder.inputType('CreateTransactionInput', {
  description: 'Create a transaction.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `tx_` KSUID; generated when absent.' }),
    currency: t.string({ required: true, description: 'ISO 4217 code of three capital letters.' }),
    amount: t.field({ type: 'Decimal', required: true, description: 'Greater than zero.' }),
    idempotencyKey: t.string(key),
  }),
});

const CompleteTransactionInput = builder.inputType('CompleteTransactionInput', {
  description: 'Complete a processing transaction.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The transaction.' }),
    doneBy: t.string({ required: true, description: 'Who completed it (1–200 characters).' }),
    expectedVersion: t.int({ description: 'Fail with CONCURRENCY_CONFLICT unless the transaction is at this version.' }),
    idempotencyKey: t.string(key),
  }),
});

const data = { name: 'transaction', description: 'The transaction as this command wrote it.' };

commandField('createTransaction', {
  description: 'Create a transaction; status PROCESSING.',
  input: CreateTransactionInput,
  inputDescription: 'What to create.',
  type: TransactionType,
  data,
  errors: [AlreadyExistsError],
  union: 'The created transaction, or why it could not be created.',
  result: 'The transaction was created.',
  run: ({ id, currency, amount }, call) =>
    call.handle(transactionAggregate, clientIdOrNew(idPrefix, id), { type: 'CreateTransaction', currency, amount }, { newStream: true }),
});

commandField('completeTransaction', {
  description: 'Complete a transaction; status COMPLETED.',
  input: CompleteTransactionInput,
  inputDescription: 'What to complete, and by whom.',
  type: TransactionType,
  data,
  errors: [NotFoundError, IllegalStateError],
  union: 'The completed transaction, or why it could not be completed.',
  result: 'The transaction was completed.',
  run: ({ id, doneBy }, call) =>
    call.handle(transactionAggregate, existingId(idPrefix, id, 'transaction'), { type: 'CompleteTransaction', doneBy }),
});
