import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { checkIdempotencyKey, clientIdOrNew, existingId } from '../../graphql/input.js';
import { builder } from '../../graphql/builder.js';
import { projectionChanges, rowAsOfEvent } from '../../graphql/changes.js';
import { commandContext } from '../../graphql/command.js';
import { connectionType, pageById } from '../../graphql/connection.js';
import { commandErrors } from '../../graphql/errors.js';
import { EventInterface, eventType } from '../../graphql/event.js';
import { NodeInterface, registerNode } from '../../graphql/node.js';
import { completeTransaction, createTransaction } from './commands.js';
import { viewAtVersion } from '../../eventstore/view-projection.js';
import { evolveView, findTransactionView, transactionViews, type TransactionView } from './projection.js';
import { aggregateType, idPrefix, type TransactionEvent } from './transaction.js';


const TransactionStatus = builder.enumType('TransactionStatus', {
  description: 'Where a transaction is in its life.',
  values: {
    PROCESSING: { description: 'Created, not yet completed.' },
    COMPLETED: { description: 'Completed by someone (`doneBy`).' },
  },
});

export const TransactionType = builder.objectRef<TransactionView>('Transaction').implement({
  description: 'A transaction (from es-go): created with an amount, later completed by someone.',
  interfaces: [NodeInterface],
  isTypeOf: (value) => typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.startsWith(`${idPrefix}_`),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'A `tx_` KSUID.' }),
    status: t.field({ type: TransactionStatus, description: 'PROCESSING or COMPLETED.', resolve: (v) => v.status }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code, e.g. `EUR`.' }),
    amount: t.field({ type: 'Decimal', description: 'Exact amount, greater than zero.', resolve: (v) => v.amount }),
    doneBy: t.exposeString('doneBy', { nullable: true, description: 'Who completed it; null while processing.' }),
    version: t.exposeInt('version', { description: 'Stream version this row reflects.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
    events: t.field({
      type: [EventInterface],
      description: 'Its stream, oldest first.',
      resolve: (v, _, { services }) => services.store.readStream(v.id),
    }),
  }),
});

eventType<Extract<TransactionEvent, { type: 'TransactionCreated' }>>(
  'TransactionCreated',
  'A transaction was created.',
  (t) => ({
    currency: t.string({ description: 'ISO 4217 code.', resolve: (e) => e.data.currency }),
    amount: t.field({ type: 'Decimal', description: 'Exact amount.', resolve: (e) => e.data.amount }),
  }),
);

eventType<Extract<TransactionEvent, { type: 'TransactionCompleted' }>>(
  'TransactionCompleted',
  'A transaction was completed.',
  (t) => ({
    doneBy: t.string({ description: 'Who completed it.', resolve: (e) => e.data.doneBy }),
  }),
);

registerNode(idPrefix, 'Transaction', (id, { services }) => findTransactionView(services.db, id));

const checkId = (id: string | number | null | undefined): string => clientIdOrNew(idPrefix, id);


const CreateTransactionInput = builder.inputType('CreateTransactionInput', {
  description: 'Create a transaction.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `tx_` KSUID; generated when absent.' }),
    currency: t.string({ required: true, description: 'ISO 4217 code of three capital letters.' }),
    amount: t.field({ type: 'Decimal', required: true, description: 'Greater than zero.' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

const CompleteTransactionInput = builder.inputType('CompleteTransactionInput', {
  description: 'Complete a processing transaction.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The transaction.' }),
    doneBy: t.string({ required: true, description: 'Who completed it (1–200 characters).' }),
    expectedVersion: t.int({ description: 'Fail with CONCURRENCY_CONFLICT unless the transaction is at this version.' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

builder.mutationFields((t) => ({
  createTransaction: t.field({
    type: TransactionType,
    description: 'Create a transaction; status PROCESSING.',
    args: { input: t.arg({ type: CreateTransactionInput, required: true, description: 'What to create.' }) },
    errors: {
      types: [...commandErrors, AlreadyExistsError],
      union: { description: 'The created transaction, or why it could not be created.' },
      result: { description: 'The transaction was created.' },
      dataField: { name: 'transaction', description: 'The transaction as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = checkId(input.id === undefined || input.id === null ? null : String(input.id));
      const result = await createTransaction(
        context.services.store,
        { id, currency: input.currency, amount: input.amount },
        commandContext('createTransaction', input, context),
      );
      return result.result;
    },
  }),
  completeTransaction: t.field({
    type: TransactionType,
    description: 'Complete a transaction; status COMPLETED.',
    args: { input: t.arg({ type: CompleteTransactionInput, required: true, description: 'What to complete, and by whom.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError],
      union: { description: 'The completed transaction, or why it could not be completed.' },
      result: { description: 'The transaction was completed.' },
      dataField: { name: 'transaction', description: 'The transaction as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingId(idPrefix, input.id, 'transaction');
      const result = await completeTransaction(
        context.services.store,
        { id, doneBy: input.doneBy, ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }) },
        commandContext('completeTransaction', { ...input, id }, context),
      );
      return result.result;
    },
  }),
}));

const TransactionConnection = connectionType<TransactionView>(
  'Transaction',
  TransactionType,
  'A page of transactions, oldest id first.',
);

builder.queryFields((t) => ({
  transaction: t.field({
    type: TransactionType,
    nullable: true,
    description: 'One transaction by id; null when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'A `tx_` id.' }),
      atVersion: t.arg.int({ description: 'Time travel: the transaction as it was right after this version.' }),
    },
    resolve: async (_, { id, atVersion }, { services }) =>
      atVersion === null || atVersion === undefined
        ? ((await findTransactionView(services.db, String(id))) ?? null)
        : viewAtVersion(services.store, String(id), atVersion, evolveView),
  }),
  transactions: t.field({
    type: TransactionConnection,
    description: 'All transactions, paged.',
    args: {
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
    },
    resolve: (_, args, { services }) => pageById(services.db, transactionViews, args),
  }),
}));

builder.subscriptionField('transactionChanged', (t) =>
  t.field({
    type: TransactionType,
    description: 'The transaction after each committed change, from now on; versions only go up.',
    args: { id: t.arg.id({ required: true, description: 'A `tx_` id.' }) },
    subscribe: (_, { id }, { services }) =>
      projectionChanges(services, String(id), rowAsOfEvent(services, (key) => findTransactionView(services.db, key), evolveView)),
    resolve: (view) => view,
  }),
);

export { aggregateType };
