import { forbidden } from '../../auth/errors.js';
import { isAdmin, type Principal } from '../../auth/principal.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import { builder } from '../../graphql/builder.js';
import { commandField } from '../../graphql/command-field.js';
import { ErrorInterface, registerErrorCode } from '../../graphql/errors.js';
import { eventType } from '../../graphql/event.js';
import { clientIdOrNew, existingId } from '../../graphql/input.js';
import { projectionNode } from '../../graphql/projection-node.js';
import { accountOwners, ownedAccounts } from './access.js';
import { aggregateType, idPrefix, type AccountEvent } from './account.js';
import { accountAggregate, type AccountResult } from './aggregate.js';
import { InsufficientFundsError } from './errors.js';
import { accounts, evolveAccountView, type AccountView } from './projection.js';

registerErrorCode('INSUFFICIENT_FUNDS', 'The balance does not cover the amount.');

const AccountStatus = builder.enumType('AccountStatus', {
  description: 'Whether an account takes commands.',
  values: {
    OPEN: { description: 'Takes credits, debits and transfers.' },
    CLOSED: { description: 'Takes no command; transfers already in flight to it still arrive.' },
  },
});

export const AccountType = projectionNode({
  name: 'Account',
  description: 'A bank account (from eventsourcing-cqrs-go): a balance in one currency.',
  idPrefix,
  noun: { one: 'account', many: 'accounts' },
  table: accounts,
  evolve: evolveAccountView,
  eventsDescription: 'Its stream, oldest first (declined debits included), a page at a time.',
  fields: (t) => ({
    owner: t.exposeString('owner', { description: 'Who owns it (1–200 characters).' }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code, e.g. `EUR`.' }),
    balance: t.field({ type: 'Decimal', description: 'Exact balance, never negative.', resolve: (v) => v.balance }),
    status: t.field({ type: AccountStatus, description: 'OPEN or CLOSED.', resolve: (v) => v.status }),
    openedAt: t.field({ type: 'DateTime', description: 'When it was opened.', resolve: (v) => v.openedAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
  }),
  list: { description: 'All accounts, paged.' },
  changed: 'The account after each committed change, from now on; versions only go up.',
  // An account is its owner's: only they (and admins) read it, its events and its transfers, and run its commands.
  owners: { aggregateType, of: accountOwners, ownedBy: ownedAccounts },
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

eventType<Of<'AccountTransferCreditDeclined'>>(
  'AccountTransferCreditDeclined',
  "An account refused a transfer's credit: its balance would have reached 10^18. The source is refunded and the transfer fails.",
  (t) => ({
    transferId: t.id({ description: 'The `mt_` transfer.', resolve: (e) => e.data.transferId }),
    amount: t.field({ type: 'Decimal', description: 'The amount refused.', resolve: (e) => e.data.amount }),
    balance: t.field({ type: 'Decimal', description: 'The balance at the time.', resolve: (e) => e.data.balance }),
  }),
);

eventType<Of<'AccountTransferRefunded'>>(
  'AccountTransferRefunded',
  "A transfer's debit came back to its source after the target refused the credit.",
  (t) => ({
    transferId: t.id({ description: 'The `mt_` transfer.', resolve: (e) => e.data.transferId }),
    amount: t.field({ type: 'Decimal', description: 'The amount refunded.', resolve: (e) => e.data.amount }),
  }),
);

const key = { description: 'Retries with the same key return the first result and append nothing.' };
const expected = { description: 'Fail with CONCURRENCY_CONFLICT unless the account is at this version.' };

const OpenAccountInput = builder.inputType('OpenAccountInput', {
  description: 'Open an account.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `acc_` KSUID; generated when absent.' }),
    owner: t.string({
      description:
        "Who owns it (1–200 characters). With a token: your `sub` when absent; only an admin may name someone else. Without authentication: required.",
    }),
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

/** An id that cannot be an account is simply not found. */
export const existingAccountId = (id: string | number): string => existingId(idPrefix, id, 'account');

/** A recorded AccountDebitDeclined answers INSUFFICIENT_FUNDS, on the first call and on replays. */
const unlessDeclined = ({ account, declined }: AccountResult): AccountView => {
  if (declined) throw new InsufficientFundsError(account.id, declined.amount, declined.balance, account.version);
  return account;
};

const data = { name: 'account', description: 'The account as this command wrote it.' };

/** Who a new account is for: the caller, unless an admin (or an open server) names someone. */
const ownerFor = (owner: string | null | undefined, principal: Principal): string => {
  if (owner != null) {
    if (owner !== principal.sub && !isAdmin(principal)) throw forbidden(principal);
    return owner;
  }
  if (principal.sub === null) throw new ValidationError('owner is required', 'owner');
  return principal.sub;
};

commandField('openAccount', {
  description: 'Open an account with an initial balance; status OPEN.',
  input: OpenAccountInput,
  inputDescription: 'Who, which currency, how much.',
  type: AccountType,
  data,
  errors: [AlreadyExistsError],
  union: 'The opened account, or why it could not be opened.',
  result: 'The account was opened.',
  run: ({ id, owner, currency, initialBalance }, call) =>
    call
      .handle(
        accountAggregate,
        clientIdOrNew(idPrefix, id),
        { type: 'OpenAccount', owner: ownerFor(owner, call.context.principal), currency, initialBalance },
        { newStream: true },
      )
      .then(unlessDeclined),
});

commandField('creditAccount', {
  description: 'Pay money into an open account.',
  input: CreditAccountInput,
  inputDescription: 'Which account, how much.',
  type: AccountType,
  data,
  errors: [NotFoundError, IllegalStateError],
  union: 'The credited account, or why it could not be credited.',
  result: 'The account was credited.',
  run: async ({ accountId, amount }, call) => {
    const id = existingAccountId(accountId);
    await call.authorize(aggregateType, id);
    return call.handle(accountAggregate, id, { type: 'CreditAccount', amount }).then(unlessDeclined);
  },
});

commandField('debitAccount', {
  description: 'Take money out of an open account. Above the balance it answers INSUFFICIENT_FUNDS and records AccountDebitDeclined.',
  input: DebitAccountInput,
  inputDescription: 'Which account, how much.',
  type: AccountType,
  data,
  errors: [NotFoundError, IllegalStateError, InsufficientFundsError],
  union: 'The debited account, or why it was not debited.',
  result: 'The account was debited.',
  run: async ({ accountId, amount }, call) => {
    const id = existingAccountId(accountId);
    await call.authorize(aggregateType, id);
    return call.handle(accountAggregate, id, { type: 'DebitAccount', amount }).then(unlessDeclined);
  },
});

commandField('closeAccount', {
  description: 'Close an open account; it takes no further command.',
  input: CloseAccountInput,
  inputDescription: 'Which account.',
  type: AccountType,
  data,
  errors: [NotFoundError, IllegalStateError],
  union: 'The closed account, or why it could not be closed.',
  result: 'The account was closed.',
  run: async ({ accountId }, call) => {
    const id = existingAccountId(accountId);
    await call.authorize(aggregateType, id);
    return call.handle(accountAggregate, id, { type: 'CloseAccount' }).then(unlessDeclined);
  },
});
