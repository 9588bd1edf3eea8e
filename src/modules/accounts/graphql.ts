import type { CommandResult } from '../../eventstore/command.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { isId } from '../../eventstore/ids.js';
import { viewAtVersion } from '../../eventstore/view-projection.js';
import { checkIdempotencyKey, clientIdOrNew, existingId } from '../../graphql/input.js';
import { builder } from '../../graphql/builder.js';
import { projectionChanges, rowAsOfEvent } from '../../graphql/changes.js';
import { commandContext } from '../../graphql/command.js';
import { connectionType, pageById } from '../../graphql/connection.js';
import { commandErrors, ErrorInterface } from '../../graphql/errors.js';
import { EventInterface, eventType } from '../../graphql/event.js';
import { NodeInterface, registerNode } from '../../graphql/node.js';
import { idPrefix, type AccountEvent } from './account.js';
import { closeAccount, creditAccount, debitAccount, openAccount, type AccountResult } from './commands.js';
import { InsufficientFundsError } from './errors.js';
import { accounts, evolveAccountView, findAccountView, type AccountView } from './projection.js';


const AccountStatus = builder.enumType('AccountStatus', {
  description: 'Whether an account takes commands.',
  values: {
    OPEN: { description: 'Takes credits, debits and transfers.' },
    CLOSED: { description: 'Takes no command; transfers already in flight to it still arrive.' },
  },
});

export const AccountType = builder.objectRef<AccountView>('Account').implement({
  description: 'A bank account (from eventsourcing-cqrs-go): a balance in one currency.',
  interfaces: [NodeInterface],
  isTypeOf: (value) => typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.startsWith(`${idPrefix}_`),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'An `acc_` KSUID.' }),
    owner: t.exposeString('owner', { description: 'Who owns it (1–200 characters).' }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code, e.g. `EUR`.' }),
    balance: t.field({ type: 'Decimal', description: 'Exact balance, never negative.', resolve: (v) => v.balance }),
    status: t.field({ type: AccountStatus, description: 'OPEN or CLOSED.', resolve: (v) => v.status }),
    version: t.exposeInt('version', { description: 'Stream version this row reflects.' }),
    openedAt: t.field({ type: 'DateTime', description: 'When it was opened.', resolve: (v) => v.openedAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
    events: t.field({
      type: [EventInterface],
      description: 'Its stream, oldest first (declined debits included).',
      resolve: (v, _, { services }) => services.store.readStream(v.id),
    }),
  }),
});

builder.objectType(InsufficientFundsError, {
  name: 'InsufficientFundsError',
  description: 'The balance does not cover the debit; the declined debit was recorded (AccountDebitDeclined).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InsufficientFundsError,
  fields: (t) => ({
    accountId: t.id({ description: 'The account.', resolve: (e) => e.accountId }),
    requested: t.field({ type: 'Decimal', description: 'The amount asked for.', resolve: (e) => e.requested }),
    balance: t.field({ type: 'Decimal', description: 'The balance at the time, unchanged.', resolve: (e) => e.balance }),
    version: t.int({ description: 'The account version after recording the declined debit.', resolve: (e) => e.version }),
  }),
});

type Of<T extends AccountEvent['type']> = Extract<AccountEvent, { type: T }>;

eventType<Of<'AccountOpened'>>('AccountOpened', 'An account was opened.', (t) => ({
  owner: t.string({ description: 'Who owns it.', resolve: (e) => e.data.owner }),
  currency: t.string({ description: 'ISO 4217 code.', resolve: (e) => e.data.currency }),
  initialBalance: t.field({ type: 'Decimal', description: 'The opening balance.', resolve: (e) => e.data.initialBalance }),
}));

eventType<Of<'AccountCredited'>>('AccountCredited', 'Money was paid in.', (t) => ({
  amount: t.field({ type: 'Decimal', description: 'The amount credited.', resolve: (e) => e.data.amount }),
}));

eventType<Of<'AccountDebited'>>('AccountDebited', 'Money was taken out.', (t) => ({
  amount: t.field({ type: 'Decimal', description: 'The amount debited.', resolve: (e) => e.data.amount }),
}));

eventType<Of<'AccountDebitDeclined'>>('AccountDebitDeclined', 'A debit above the balance was refused.', (t) => ({
  amount: t.field({ type: 'Decimal', description: 'The amount asked for.', resolve: (e) => e.data.amount }),
  balance: t.field({ type: 'Decimal', description: 'The balance at the time.', resolve: (e) => e.data.balance }),
}));

eventType<Of<'AccountClosed'>>('AccountClosed', 'The account was closed; it has no payload.', () => ({}));

eventType<Of<'AccountDebitedForTransfer'>>('AccountDebitedForTransfer', 'A money transfer took money out.', (t) => ({
  transferId: t.id({ description: 'The `mt_` transfer.', resolve: (e) => e.data.transferId }),
  amount: t.field({ type: 'Decimal', description: 'The amount debited.', resolve: (e) => e.data.amount }),
}));

eventType<Of<'AccountCreditedForTransfer'>>('AccountCreditedForTransfer', 'A money transfer paid money in.', (t) => ({
  transferId: t.id({ description: 'The `mt_` transfer.', resolve: (e) => e.data.transferId }),
  amount: t.field({ type: 'Decimal', description: 'The amount credited.', resolve: (e) => e.data.amount }),
}));

const TransferDeclineReason = builder.enumType('AccountTransferDeclineReason', {
  description: 'Why an account refused to be debited for a transfer.',
  values: {
    INSUFFICIENT_FUNDS: { description: 'The balance did not cover the amount.' },
    ACCOUNT_CLOSED: { description: 'The account was closed.' },
  },
});

eventType<Of<'AccountTransferDebitDeclined'>>(
  'AccountTransferDebitDeclined',
  'An account refused to be debited for a transfer; the transfer fails.',
  (t) => ({
    transferId: t.id({ description: 'The `mt_` transfer.', resolve: (e) => e.data.transferId }),
    amount: t.field({ type: 'Decimal', description: 'The amount asked for.', resolve: (e) => e.data.amount }),
    balance: t.field({ type: 'Decimal', description: 'The balance at the time.', resolve: (e) => e.data.balance }),
    reason: t.field({ type: TransferDeclineReason, description: 'Why.', resolve: (e) => e.data.reason }),
  }),
);

registerNode(idPrefix, 'Account', (id, { services }) => findAccountView(services.db, id));


const newAccountId = (id: string | number | null | undefined): string => clientIdOrNew(idPrefix, id);

/** An id that cannot be an account is simply not found. */
export const existingAccountId = (id: string | number): string => existingId(idPrefix, id, 'account');

/** A recorded AccountDebitDeclined answers INSUFFICIENT_FUNDS, on the first call and on replays. */
const settle = ({ result }: CommandResult<AccountResult>): AccountView => {
  if (result.declined) {
    throw new InsufficientFundsError(result.account.id, result.declined.amount, result.declined.balance, result.account.version);
  }
  return result.account;
};

const key = { description: 'Retries with the same key return the first result and append nothing.' };
const expected = { description: 'Fail with CONCURRENCY_CONFLICT unless the account is at this version.' };

const OpenAccountInput = builder.inputType('OpenAccountInput', {
  description: 'Open an account.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `acc_` KSUID; generated when absent.' }),
    owner: t.string({ required: true, description: 'Who owns it (1–200 characters).' }),
    currency: t.string({ required: true, description: 'ISO 4217 code of three capital letters.' }),
    initialBalance: t.field({ type: 'Decimal', required: true, description: 'Zero or more.' }),
    idempotencyKey: t.string(key),
  }),
});

const amountInput = (name: string, what: string) =>
  builder.inputType(name, {
    description: what,
    fields: (t) => ({
      accountId: t.id({ required: true, description: 'The account.' }),
      amount: t.field({ type: 'Decimal', required: true, description: 'Greater than zero.' }),
      expectedVersion: t.int(expected),
      idempotencyKey: t.string(key),
    }),
  });

const CreditAccountInput = amountInput('CreditAccountInput', 'Pay money into an account.');
const DebitAccountInput = amountInput('DebitAccountInput', 'Take money out of an account.');

const CloseAccountInput = builder.inputType('CloseAccountInput', {
  description: 'Close an account.',
  fields: (t) => ({
    accountId: t.id({ required: true, description: 'The account.' }),
    expectedVersion: t.int(expected),
    idempotencyKey: t.string(key),
  }),
});

const accountResult = (union: string, result: string) => ({
  union: { description: union },
  result: { description: result },
  dataField: { name: 'account', description: 'The account as this command wrote it.' },
});

builder.mutationFields((t) => ({
  openAccount: t.field({
    type: AccountType,
    description: 'Open an account with an initial balance; status OPEN.',
    args: { input: t.arg({ type: OpenAccountInput, required: true, description: 'Who, which currency, how much.' }) },
    errors: {
      types: [...commandErrors, AlreadyExistsError],
      ...accountResult('The opened account, or why it could not be opened.', 'The account was opened.'),
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = newAccountId(input.id);
      const result = await openAccount(
        context.services.store,
        { id, owner: input.owner, currency: input.currency, initialBalance: input.initialBalance },
        commandContext('openAccount', input, context),
      );
      return settle(result);
    },
  }),
  creditAccount: t.field({
    type: AccountType,
    description: 'Pay money into an open account.',
    args: { input: t.arg({ type: CreditAccountInput, required: true, description: 'Which account, how much.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError],
      ...accountResult('The credited account, or why it could not be credited.', 'The account was credited.'),
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingAccountId(input.accountId);
      const result = await creditAccount(
        context.services.store,
        { id, amount: input.amount, ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }) },
        commandContext('creditAccount', { ...input, accountId: id }, context),
      );
      return settle(result);
    },
  }),
  debitAccount: t.field({
    type: AccountType,
    description: 'Take money out of an open account. Above the balance it answers INSUFFICIENT_FUNDS and records AccountDebitDeclined.',
    args: { input: t.arg({ type: DebitAccountInput, required: true, description: 'Which account, how much.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError, InsufficientFundsError],
      ...accountResult('The debited account, or why it was not debited.', 'The account was debited.'),
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingAccountId(input.accountId);
      const result = await debitAccount(
        context.services.store,
        { id, amount: input.amount, ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }) },
        commandContext('debitAccount', { ...input, accountId: id }, context),
      );
      return settle(result);
    },
  }),
  closeAccount: t.field({
    type: AccountType,
    description: 'Close an open account; it takes no further command.',
    args: { input: t.arg({ type: CloseAccountInput, required: true, description: 'Which account.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError],
      ...accountResult('The closed account, or why it could not be closed.', 'The account was closed.'),
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingAccountId(input.accountId);
      const result = await closeAccount(
        context.services.store,
        { id, ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }) },
        commandContext('closeAccount', { ...input, accountId: id }, context),
      );
      return settle(result);
    },
  }),
}));

const AccountConnection = connectionType<AccountView>('Account', AccountType, 'A page of accounts, oldest id first.');

builder.queryFields((t) => ({
  account: t.field({
    type: AccountType,
    nullable: true,
    description: 'One account by id; null when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'An `acc_` id.' }),
      atVersion: t.arg.int({ description: 'Time travel: the account as it was right after this version.' }),
    },
    resolve: async (_, { id, atVersion }, { services }) => {
      if (!isId(idPrefix, String(id))) return null;
      return atVersion === null || atVersion === undefined
        ? ((await findAccountView(services.db, String(id))) ?? null)
        : viewAtVersion(services.store, String(id), atVersion, evolveAccountView);
    },
  }),
  accounts: t.field({
    type: AccountConnection,
    description: 'All accounts, paged.',
    args: {
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
    },
    resolve: (_, args, { services }) => pageById(services.db, accounts, args),
  }),
}));

builder.subscriptionField('accountChanged', (t) =>
  t.field({
    type: AccountType,
    description: 'The account after each committed change, from now on; versions only go up.',
    args: { id: t.arg.id({ required: true, description: 'An `acc_` id.' }) },
    subscribe: (_, { id }, { services }) => projectionChanges(services, String(id), rowAsOfEvent(services, (key) => findAccountView(services.db, key), evolveAccountView)),
    resolve: (view) => view,
  }),
);
