import { eq, or } from 'drizzle-orm';
import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { isId } from '../../eventstore/ids.js';
import { viewAtVersion } from '../../eventstore/view-projection.js';
import { checkIdempotencyKey, clientIdOrNew } from '../../graphql/input.js';
import { builder } from '../../graphql/builder.js';
import { projectionChanges, rowAsOfEvent } from '../../graphql/changes.js';
import { commandContext } from '../../graphql/command.js';
import { connectionType, pageById } from '../../graphql/connection.js';
import { commandErrors } from '../../graphql/errors.js';
import { EventInterface, eventType } from '../../graphql/event.js';
import { NodeInterface, registerNode } from '../../graphql/node.js';
import type { Context } from '../../graphql/context.js';
import { AccountType, existingAccountId } from '../accounts/graphql.js';
import { findAccountView } from '../accounts/projection.js';
import { transferMoney } from './commands.js';
import { idPrefix, type MoneyTransferEvent } from './money-transfer.js';
import { evolveMoneyTransferView, findMoneyTransferView, moneyTransfers, type MoneyTransferView } from './projection.js';


const MoneyTransferStatus = builder.enumType('MoneyTransferStatus', {
  description: 'Where a transfer is in the saga.',
  values: {
    CREATED: { description: 'Requested; the source is not debited yet.' },
    DEBITED: { description: 'The source was debited; the target is about to be credited.' },
    COMPLETED: { description: 'The target was credited.' },
    FAILED: { description: 'Nothing moved; see `failureReason`.' },
  },
});

const MoneyTransferFailureReason = builder.enumType('MoneyTransferFailureReason', {
  description: 'Why a transfer failed.',
  values: {
    INSUFFICIENT_FUNDS: { description: 'The source balance did not cover the amount.' },
    ACCOUNT_CLOSED: { description: 'The source or the target account was closed.' },
  },
});

const accountOf = async (id: string, { services }: Context) => {
  const account = await findAccountView(services.db, id);
  if (!account) throw new Error(`account view ${id} is missing`);
  return account;
};

export const MoneyTransferType = builder.objectRef<MoneyTransferView>('MoneyTransfer').implement({
  description: 'Money moved between two accounts of one currency by the transfer saga (from eventsourcing-cqrs-go).',
  interfaces: [NodeInterface],
  isTypeOf: (value) => typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.startsWith(`${idPrefix}_`),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'An `mt_` KSUID.' }),
    fromAccount: t.field({ type: AccountType, description: 'The source account.', resolve: (v, _, c) => accountOf(v.fromAccountId, c) }),
    toAccount: t.field({ type: AccountType, description: 'The target account.', resolve: (v, _, c) => accountOf(v.toAccountId, c) }),
    amount: t.field({ type: 'Decimal', description: 'Exact amount, greater than zero.', resolve: (v) => v.amount }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code of both accounts.' }),
    status: t.field({ type: MoneyTransferStatus, description: 'Where the saga is.', resolve: (v) => v.status }),
    failureReason: t.field({
      type: MoneyTransferFailureReason,
      nullable: true,
      description: 'Why it failed; null unless FAILED.',
      resolve: (v) => v.failureReason,
    }),
    version: t.exposeInt('version', { description: 'Stream version this row reflects.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was requested.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
    events: t.field({
      type: [EventInterface],
      description: 'Its stream, oldest first.',
      resolve: (v, _, { services }) => services.store.readStream(v.id),
    }),
  }),
});

type Of<T extends MoneyTransferEvent['type']> = Extract<MoneyTransferEvent, { type: T }>;

eventType<Of<'MoneyTransferCreated'>>('MoneyTransferCreated', 'A transfer was requested.', (t) => ({
  fromAccountId: t.id({ description: 'The source account.', resolve: (e) => e.data.fromAccountId }),
  toAccountId: t.id({ description: 'The target account.', resolve: (e) => e.data.toAccountId }),
  amount: t.field({ type: 'Decimal', description: 'The amount.', resolve: (e) => e.data.amount }),
  currency: t.string({ description: 'ISO 4217 code.', resolve: (e) => e.data.currency }),
}));

eventType<Of<'MoneyTransferDebited'>>('MoneyTransferDebited', 'The source account was debited; it has no payload.', () => ({}));

eventType<Of<'MoneyTransferCompleted'>>('MoneyTransferCompleted', 'The target account was credited; it has no payload.', () => ({}));

eventType<Of<'MoneyTransferFailed'>>('MoneyTransferFailed', 'The transfer failed without moving money.', (t) => ({
  reason: t.field({ type: MoneyTransferFailureReason, description: 'Why.', resolve: (e) => e.data.reason }),
}));

registerNode(idPrefix, 'MoneyTransfer', (id, { services }) => findMoneyTransferView(services.db, id));


const newTransferId = (id: string | number | null | undefined): string => clientIdOrNew(idPrefix, id);

const TransferMoneyInput = builder.inputType('TransferMoneyInput', {
  description: 'Move money between two accounts of the same currency.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `mt_` KSUID; generated when absent.' }),
    fromAccountId: t.id({ required: true, description: 'The source account.' }),
    toAccountId: t.id({ required: true, description: 'The target account; not the source.' }),
    amount: t.field({ type: 'Decimal', required: true, description: 'Greater than zero.' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result and append nothing.' }),
  }),
});

builder.mutationFields((t) => ({
  transferMoney: t.field({
    type: MoneyTransferType,
    description:
      'Request a transfer; status CREATED. The saga then debits the source and credits the target (COMPLETED), or fails it (FAILED). Watch it with `moneyTransferChanged`.',
    args: { input: t.arg({ type: TransferMoneyInput, required: true, description: 'From, to, how much.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError, AlreadyExistsError],
      union: { description: 'The requested transfer, or why it could not be requested.' },
      result: { description: 'The transfer was requested.' },
      dataField: { name: 'moneyTransfer', description: 'The transfer as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = newTransferId(input.id);
      const fromAccountId = existingAccountId(input.fromAccountId);
      const toAccountId = existingAccountId(input.toAccountId);
      const result = await transferMoney(
        context.services.store,
        { id, fromAccountId, toAccountId, amount: input.amount },
        commandContext('transferMoney', { ...input, fromAccountId, toAccountId }, context),
      );
      return result.result;
    },
  }),
}));

const MoneyTransferConnection = connectionType<MoneyTransferView>(
  'MoneyTransfer',
  MoneyTransferType,
  'A page of money transfers, oldest id first.',
);

/** A page of transfers, optionally those where `accountId` is the source or the target. */
const transferPage = (
  { services }: Context,
  args: { first?: number | null; after?: string | null },
  accountId: string | undefined,
) =>
  pageById(
    services.db,
    moneyTransfers,
    args,
    accountId === undefined
      ? undefined
      : or(eq(moneyTransfers.fromAccountId, accountId), eq(moneyTransfers.toAccountId, accountId)),
  );

const pageArgs = {
  first: { description: 'Page size, at most 500 (50 when absent).' },
  after: { description: 'The `endCursor` of the previous page.' },
};

builder.objectField(AccountType, 'transfers', (t) =>
  t.field({
    type: MoneyTransferConnection,
    description: 'The transfers from or to this account, paged, oldest id first.',
    args: { first: t.arg.int(pageArgs.first), after: t.arg.string(pageArgs.after) },
    resolve: (account, args, context) => transferPage(context, args, account.id),
  }),
);

builder.queryFields((t) => ({
  moneyTransfer: t.field({
    type: MoneyTransferType,
    nullable: true,
    description: 'One money transfer by id; null when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'An `mt_` id.' }),
      atVersion: t.arg.int({ description: 'Time travel: the transfer as it was right after this version.' }),
    },
    resolve: async (_, { id, atVersion }, { services }) => {
      if (!isId(idPrefix, String(id))) return null;
      return atVersion === null || atVersion === undefined
        ? ((await findMoneyTransferView(services.db, String(id))) ?? null)
        : viewAtVersion(services.store, String(id), atVersion, evolveMoneyTransferView);
    },
  }),
  moneyTransfers: t.field({
    type: MoneyTransferConnection,
    description: 'All money transfers, or those of one account, paged.',
    args: {
      first: t.arg.int(pageArgs.first),
      after: t.arg.string(pageArgs.after),
      accountId: t.arg.id({ description: 'Only transfers from or to this account.' }),
    },
    resolve: (_, args, context) =>
      transferPage(context, args, args.accountId === null || args.accountId === undefined ? undefined : String(args.accountId)),
  }),
}));

builder.subscriptionField('moneyTransferChanged', (t) =>
  t.field({
    type: MoneyTransferType,
    description: 'The transfer after each committed change, from now on: one push per saga step (CREATED, DEBITED, COMPLETED or FAILED), versions only go up.',
    args: { id: t.arg.id({ required: true, description: 'An `mt_` id.' }) },
    // The row as of each event, not the current row: a fast saga must not hide DEBITED.
    subscribe: (_, { id }, { services }) =>
      projectionChanges(services, String(id), rowAsOfEvent(services, (key) => findMoneyTransferView(services.db, key), evolveMoneyTransferView)),
    resolve: (view) => view,
  }),
);
