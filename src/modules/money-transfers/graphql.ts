import { eq, or } from 'drizzle-orm';
import { owns } from '../../auth/access.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { findRow } from '../../eventstore/view-projection.js';
import { builder } from '../../graphql/builder.js';
import { commandField } from '../../graphql/command-field.js';
import { pageById } from '../../graphql/connection.js';
import type { Context } from '../../graphql/context.js';
import { eventType } from '../../graphql/event.js';
import { clientIdOrNew } from '../../graphql/input.js';
import { projectionNode } from '../../graphql/projection-node.js';
import { AccountType, existingAccountId } from '../accounts/graphql.js';
import { aggregateType as accountType } from '../accounts/account.js';
import { accounts } from '../accounts/projection.js';
import { ownedTransfers, transferOwners } from './access.js';
import { accountSummary, moneyTransferAggregate } from './aggregate.js';
import { aggregateType, idPrefix, type MoneyTransferEvent } from './money-transfer.js';
import { evolveMoneyTransferView, moneyTransfers } from './projection.js';

const MoneyTransferStatus = builder.enumType('MoneyTransferStatus', {
  description: 'Where a transfer is in the saga.',
  values: {
    CREATED: { description: 'Requested; the source is not debited yet.' },
    DEBITED: { description: 'The source was debited; the target is about to be credited.' },
    COMPLETED: { description: 'The target was credited.' },
    FAILED: { description: 'No money moved in the end; see `failureReason`.' },
  },
});

const MoneyTransferFailureReason = builder.enumType('MoneyTransferFailureReason', {
  description: 'Why a transfer failed.',
  values: {
    INSUFFICIENT_FUNDS: { description: 'The source balance did not cover the amount.' },
    ACCOUNT_CLOSED: { description: 'The source or the target account was closed.' },
    BALANCE_LIMIT_EXCEEDED: {
      description: "The target's balance would have reached 10^18; if the source was already debited, it was refunded.",
    },
  },
});

/** One side of a transfer, when the caller may read it: the other side's account is not theirs. */
const accountOf = async (id: string, context: Context) => {
  if (!(await owns(context.principal, accountType, id, context.services))) return null;
  const account = await findRow((await context.read()).db, accounts, id);
  if (!account) throw new Error(`account view ${id} is missing`);
  return account;
};

/** Transfers where `accountId` is the source or the target; all of them without one. */
const ofAccount = (accountId: unknown) =>
  accountId == null ? undefined : or(eq(moneyTransfers.fromAccountId, String(accountId)), eq(moneyTransfers.toAccountId, String(accountId)));

export const MoneyTransferType = projectionNode({
  name: 'MoneyTransfer',
  description: 'Money moved between two accounts of one currency by the transfer saga (from eventsourcing-cqrs-go).',
  idPrefix,
  noun: { one: 'money transfer', many: 'money transfers', short: 'transfer' },
  table: moneyTransfers,
  evolve: evolveMoneyTransferView,
  fields: (t) => ({
    fromAccountId: t.exposeID('fromAccountId', { description: 'The source account’s id.' }),
    toAccountId: t.exposeID('toAccountId', { description: 'The target account’s id.' }),
    fromAccount: t.field({
      type: AccountType,
      nullable: true,
      description: 'The source account; null when it is not yours (you are the receiver).',
      resolve: (v, _, c) => accountOf(v.fromAccountId, c),
    }),
    toAccount: t.field({
      type: AccountType,
      nullable: true,
      description: 'The target account; null when it is not yours (you are the sender).',
      resolve: (v, _, c) => accountOf(v.toAccountId, c),
    }),
    amount: t.field({ type: 'Decimal', description: 'Exact amount, greater than zero.', resolve: (v) => v.amount }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code of both accounts.' }),
    status: t.field({ type: MoneyTransferStatus, description: 'Where the saga is.', resolve: (v) => v.status }),
    failureReason: t.field({
      type: MoneyTransferFailureReason,
      nullable: true,
      description: 'Why it failed; null unless FAILED.',
      resolve: (v) => v.failureReason,
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was requested.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
  }),
  list: {
    description: 'All money transfers, or those of one account, paged.',
    args: (arg) => ({ accountId: arg.id({ description: 'Only transfers from or to this account.' }) }),
    filter: ({ accountId }) => ofAccount(accountId),
  },
  changed:
    'The transfer after each committed change, from now on: one push per saga step (DEBITED, then COMPLETED or FAILED), versions only go up.',
  // A transfer is its two accounts' owners': the sender and the receiver read it.
  owners: { aggregateType, of: transferOwners, ownedBy: ownedTransfers },
});

builder.objectField(AccountType, 'transfers', (t) =>
  t.field({
    type: MoneyTransferType.connection,
    description: 'The transfers from or to this account, paged, oldest id first.',
    args: {
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
    },
    resolve: async (account, args, context) => pageById((await context.read()).db, moneyTransfers, args, ofAccount(account.id)) as never,
  }),
);

type Of<T extends MoneyTransferEvent['type']> = Extract<MoneyTransferEvent, { type: T }>;

eventType<Of<'MoneyTransferCreated'>>('MoneyTransferCreated', 'A transfer was requested.', (t) => ({
  fromAccountId: t.id({ description: 'The source account.', resolve: (e) => e.data.fromAccountId }),
  toAccountId: t.id({ description: 'The target account.', resolve: (e) => e.data.toAccountId }),
  amount: t.field({ type: 'Decimal', description: 'The amount.', resolve: (e) => e.data.amount }),
  currency: t.string({ description: 'ISO 4217 code.', resolve: (e) => e.data.currency }),
}));

eventType<Of<'MoneyTransferDebited'>>('MoneyTransferDebited', 'The source account was debited; it has no payload.', () => ({}));

eventType<Of<'MoneyTransferCompleted'>>('MoneyTransferCompleted', 'The target account was credited; it has no payload.', () => ({}));

eventType<Of<'MoneyTransferFailed'>>('MoneyTransferFailed', 'The transfer failed; no money moved in the end (a refused credit is refunded to the source first).', (t) => ({
  reason: t.field({ type: MoneyTransferFailureReason, description: 'Why.', resolve: (e) => e.data.reason }),
}));

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

commandField('transferMoney', {
  description:
    'Request a transfer; status CREATED. The saga then debits the source and credits the target (COMPLETED), or fails it (FAILED). Watch it with `moneyTransferChanged`.',
  input: TransferMoneyInput,
  inputDescription: 'From, to, how much.',
  type: MoneyTransferType,
  data: { name: 'moneyTransfer', description: 'The transfer as this command wrote it.' },
  errors: [NotFoundError, IllegalStateError, AlreadyExistsError],
  union: 'The requested transfer, or why it could not be requested.',
  result: 'The transfer was requested.',
  run: async ({ id, amount, ...input }, call) => {
    const fromAccountId = existingAccountId(input.fromAccountId);
    const toAccountId = existingAccountId(input.toAccountId);
    // Money leaves only its owner's account; it may go to anyone's.
    await call.authorize(accountType, fromAccountId);
    // The accounts as they are now, read before the transfer's transaction: one that closes in
    // between fails the transfer later (ACCOUNT_CLOSED) instead of failing this request.
    const [from, to] = await Promise.all([fromAccountId, toAccountId].map((account) => accountSummary(call.context.services.store, account)));
    return call.handle(
      moneyTransferAggregate,
      clientIdOrNew(idPrefix, id),
      { type: 'CreateMoneyTransfer', fromAccountId, toAccountId, amount, from, to },
      { newStream: true },
    );
  },
});
