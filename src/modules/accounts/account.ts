import type { Decider } from '../../eventstore/decider.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import type { Event } from '../../eventstore/types.js';
import { add, Decimal, subtract } from '../../lib/decimal.js';
import { unreachable } from '../../lib/unreachable.js';

export const aggregateType = 'Account';
export const idPrefix = 'acc';

export const maxOwnerLength = 200;
/**
 * Balances stay below 10^18: a credit (a client's or a transfer's) that would reach it is
 * refused. Only a refund of a transfer the target refused may pass it, since the money must go
 * back where it came from (the balance column is unbounded for that reason).
 */
export const balanceLimit = new Decimal('1e18');
const currencyPattern = /^[A-Z]{3}$/;

/** Why a transfer's debit was declined; the transfer fails with the same reason. */
export type TransferDeclineReason = 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED';

export type AccountEvent =
  | Event<'AccountOpened', { owner: string; currency: string; initialBalance: string }>
  | Event<'AccountCredited', { amount: string }>
  | Event<'AccountDebited', { amount: string }>
  | Event<'AccountDebitDeclined', { amount: string; balance: string }>
  | Event<'AccountClosed', Record<string, never>>
  | Event<'AccountDebitedForTransfer', { transferId: string; amount: string }>
  | Event<'AccountCreditedForTransfer', { transferId: string; amount: string }>
  | Event<
      'AccountTransferDebitDeclined',
      { transferId: string; amount: string; balance: string; reason: TransferDeclineReason }
    >
  /** The target refused a transfer's credit: its balance would have reached 10^18. */
  | Event<'AccountTransferCreditDeclined', { transferId: string; amount: string; balance: string }>
  /** A transfer's debit came back to its source after the target refused the credit. */
  | Event<'AccountTransferRefunded', { transferId: string; amount: string }>;

export type AccountEventType = AccountEvent['type'];

export type AccountCommand =
  | { readonly type: 'OpenAccount'; readonly owner: string; readonly currency: string; readonly initialBalance: string }
  | { readonly type: 'CreditAccount'; readonly amount: string }
  | { readonly type: 'DebitAccount'; readonly amount: string }
  | { readonly type: 'CloseAccount' }
  | { readonly type: 'DebitForTransfer'; readonly transferId: string; readonly amount: string }
  | { readonly type: 'CreditForTransfer'; readonly transferId: string; readonly amount: string }
  | { readonly type: 'RefundTransfer'; readonly transferId: string; readonly amount: string };

type Existing = {
  readonly owner: string;
  readonly currency: string;
  /** A decimal string; arithmetic goes through decimal.js, never a JS number. */
  readonly balance: string;
  /** Transfers whose debit side is settled here (debited or declined): a repeat appends nothing. */
  readonly transfersDebited: ReadonlySet<string>;
  /** Transfers whose credit side is settled here (credited or declined): a repeat appends nothing. */
  readonly transfersCredited: ReadonlySet<string>;
  /** Transfers refunded here: a repeat appends nothing. */
  readonly transfersRefunded: ReadonlySet<string>;
};

export type Account =
  | { readonly status: 'NONE' }
  | (Existing & { readonly status: 'OPEN' })
  | (Existing & { readonly status: 'CLOSED' });

export const initialState: Account = { status: 'NONE' };

/** A positive (or, with `allowZero`, non-negative) exact amount, or VALIDATION_FAILED on `field`. */
const checkAmount = (value: string, field: string, allowZero = false): Decimal => {
  let amount: Decimal;
  try {
    amount = new Decimal(value);
  } catch {
    throw new ValidationError(`${field} must be a decimal number`, field);
  }
  if (!amount.isFinite()) throw new ValidationError(`${field} must be a decimal number`, field);
  if (allowZero ? amount.isNegative() && !amount.isZero() : !amount.gt(0)) {
    throw new ValidationError(`${field} must be ${allowZero ? 'zero or more' : 'greater than zero'}`, field);
  }
  if (amount.gte(balanceLimit)) throw new ValidationError(`${field} must be below 10^18`, field);
  return amount;
};

/** Normal commands need an open account; unknown → NOT_FOUND, closed → ILLEGAL_STATE. */
const openAccount = (state: Account): Existing & { status: 'OPEN' } => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no account has this id');
    case 'CLOSED':
      throw new IllegalStateError('this account is closed');
    case 'OPEN':
      return state;
    default:
      return unreachable(state);
  }
};

/** Transfer commands meet an account the transfer already validated; it may have closed since. */
const existingAccount = (state: Account): Existing & { status: 'OPEN' | 'CLOSED' } => {
  if (state.status === 'NONE') throw new NotFoundError('no account has this id');
  return state;
};

const open = (command: Extract<AccountCommand, { type: 'OpenAccount' }>, state: Account): AccountEvent[] => {
  if (state.status !== 'NONE') throw new AlreadyExistsError('this account already exists');
  const owner = command.owner.trim();
  if (owner === '' || command.owner.length > maxOwnerLength) {
    throw new ValidationError(`owner must be 1 to ${maxOwnerLength} characters`, 'owner');
  }
  if (!currencyPattern.test(command.currency)) {
    throw new ValidationError('currency must be an ISO 4217 code of three capital letters', 'currency');
  }
  const initialBalance = checkAmount(command.initialBalance, 'initialBalance', true);
  return [
    {
      type: 'AccountOpened',
      data: { owner: command.owner, currency: command.currency, initialBalance: initialBalance.toFixed() },
    },
  ];
};

/** True when the balance can take `amount` and stay below the limit. */
const fits = (balance: string, amount: Decimal): boolean => new Decimal(balance).plus(amount).lt(balanceLimit);

const credit = (command: Extract<AccountCommand, { type: 'CreditAccount' }>, state: Account): AccountEvent[] => {
  const amount = checkAmount(command.amount, 'amount');
  const account = openAccount(state);
  if (!fits(account.balance, amount)) throw new ValidationError('the balance would reach 10^18', 'amount');
  return [{ type: 'AccountCredited', data: { amount: amount.toFixed() } }];
};

/** A debit above the balance is not an error here: the seed records the declined debit (a version). */
const debit = (command: Extract<AccountCommand, { type: 'DebitAccount' }>, state: Account): AccountEvent[] => {
  const amount = checkAmount(command.amount, 'amount');
  const account = openAccount(state);
  return amount.gt(account.balance)
    ? [{ type: 'AccountDebitDeclined', data: { amount: amount.toFixed(), balance: account.balance } }]
    : [{ type: 'AccountDebited', data: { amount: amount.toFixed() } }];
};

const close = (state: Account): AccountEvent[] => {
  openAccount(state);
  return [{ type: 'AccountClosed', data: {} }];
};

const debitForTransfer = (
  command: Extract<AccountCommand, { type: 'DebitForTransfer' }>,
  state: Account,
): AccountEvent[] => {
  const amount = checkAmount(command.amount, 'amount');
  const account = existingAccount(state);
  if (account.transfersDebited.has(command.transferId)) return [];
  const declined = (reason: TransferDeclineReason): AccountEvent[] => [
    {
      type: 'AccountTransferDebitDeclined',
      data: { transferId: command.transferId, amount: amount.toFixed(), balance: account.balance, reason },
    },
  ];
  if (account.status === 'CLOSED') return declined('ACCOUNT_CLOSED');
  if (amount.gt(account.balance)) return declined('INSUFFICIENT_FUNDS');
  return [{ type: 'AccountDebitedForTransfer', data: { transferId: command.transferId, amount: amount.toFixed() } }];
};

/**
 * Credits even a closed account: the money already left the source, and declining here would
 * need a compensating refund that can itself fail. Money is never lost; a closed account may
 * end with the balance of transfers that were in flight when it closed. What it cannot take is
 * a balance of 10^18 or more: that credit is declined, and the saga refunds the source.
 */
const creditForTransfer = (
  command: Extract<AccountCommand, { type: 'CreditForTransfer' }>,
  state: Account,
): AccountEvent[] => {
  const amount = checkAmount(command.amount, 'amount');
  const account = existingAccount(state);
  if (account.transfersCredited.has(command.transferId)) return [];
  if (!fits(account.balance, amount)) {
    return [
      {
        type: 'AccountTransferCreditDeclined',
        data: { transferId: command.transferId, amount: amount.toFixed(), balance: account.balance },
      },
    ];
  }
  return [{ type: 'AccountCreditedForTransfer', data: { transferId: command.transferId, amount: amount.toFixed() } }];
};

/**
 * Gives back what a transfer took from this account, after the target declined it. Always
 * accepted, closed account or balance limit alike: the money must not be lost on the way.
 */
const refundTransfer = (command: Extract<AccountCommand, { type: 'RefundTransfer' }>, state: Account): AccountEvent[] => {
  const amount = checkAmount(command.amount, 'amount');
  const account = existingAccount(state);
  if (!account.transfersDebited.has(command.transferId)) {
    throw new IllegalStateError('this account was not debited for that transfer');
  }
  if (account.transfersRefunded.has(command.transferId)) return [];
  return [{ type: 'AccountTransferRefunded', data: { transferId: command.transferId, amount: amount.toFixed() } }];
};

export const decide = (command: AccountCommand, state: Account): readonly AccountEvent[] => {
  switch (command.type) {
    case 'OpenAccount':
      return open(command, state);
    case 'CreditAccount':
      return credit(command, state);
    case 'DebitAccount':
      return debit(command, state);
    case 'CloseAccount':
      return close(state);
    case 'DebitForTransfer':
      return debitForTransfer(command, state);
    case 'CreditForTransfer':
      return creditForTransfer(command, state);
    case 'RefundTransfer':
      return refundTransfer(command, state);
    default:
      return unreachable(command);
  }
};

const withId = (ids: ReadonlySet<string>, id: string): ReadonlySet<string> => new Set(ids).add(id);

export const evolve = (state: Account, event: AccountEvent): Account => {
  if (event.type === 'AccountOpened') {
    if (state.status !== 'NONE') return state;
    return {
      status: 'OPEN',
      owner: event.data.owner,
      currency: event.data.currency,
      balance: new Decimal(event.data.initialBalance).toFixed(),
      transfersDebited: new Set(),
      transfersCredited: new Set(),
      transfersRefunded: new Set(),
    };
  }
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'AccountCredited':
      return { ...state, balance: add(state.balance, event.data.amount) };
    case 'AccountDebited':
      return { ...state, balance: subtract(state.balance, event.data.amount) };
    case 'AccountDebitDeclined':
      return state;
    case 'AccountClosed':
      return { ...state, status: 'CLOSED' };
    case 'AccountDebitedForTransfer':
      return {
        ...state,
        balance: subtract(state.balance, event.data.amount),
        transfersDebited: withId(state.transfersDebited, event.data.transferId),
      };
    case 'AccountTransferDebitDeclined':
      return { ...state, transfersDebited: withId(state.transfersDebited, event.data.transferId) };
    case 'AccountCreditedForTransfer':
      return {
        ...state,
        balance: add(state.balance, event.data.amount),
        transfersCredited: withId(state.transfersCredited, event.data.transferId),
      };
    case 'AccountTransferCreditDeclined':
      return { ...state, transfersCredited: withId(state.transfersCredited, event.data.transferId) };
    case 'AccountTransferRefunded':
      return {
        ...state,
        balance: add(state.balance, event.data.amount),
        transfersRefunded: withId(state.transfersRefunded, event.data.transferId),
      };
    default:
      return unreachable(event);
  }
};

export const accountDecider: Decider<AccountCommand, Account, AccountEvent> = { initialState, decide, evolve };

type StoredAccount =
  | { readonly status: 'NONE' }
  | (Omit<Existing, 'transfersDebited' | 'transfersCredited' | 'transfersRefunded'> & {
      readonly status: 'OPEN' | 'CLOSED';
      readonly transfersDebited: readonly string[];
      readonly transfersCredited: readonly string[];
      readonly transfersRefunded: readonly string[];
    });

/**
 * An account's state in a snapshot: the settled transfer ids as arrays (JSON has no sets). The
 * snapshot carries them, so a transfer step redelivered after it still appends nothing.
 */
export const accountSnapshot = {
  encode: (state: Account): StoredAccount =>
    state.status === 'NONE'
      ? state
      : {
          ...state,
          transfersDebited: [...state.transfersDebited],
          transfersCredited: [...state.transfersCredited],
          transfersRefunded: [...state.transfersRefunded],
        },
  decode: (stored: unknown): Account => {
    const account = stored as StoredAccount;
    return account.status === 'NONE'
      ? account
      : {
          ...account,
          transfersDebited: new Set(account.transfersDebited),
          transfersCredited: new Set(account.transfersCredited),
          transfersRefunded: new Set(account.transfersRefunded),
        };
  },
};
