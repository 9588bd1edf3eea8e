import type { Decider } from '../../eventstore/decider.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import type { Event } from '../../eventstore/types.js';
import { Decimal } from '../../lib/decimal.js';
import { unreachable } from '../../lib/unreachable.js';

export const aggregateType = 'MoneyTransfer';
export const idPrefix = 'mt';

/**
 * Why a transfer failed. INSUFFICIENT_FUNDS and ACCOUNT_CLOSED fail it before money moves;
 * BALANCE_LIMIT_EXCEEDED either before (the target was already too full) or after the target
 * refused the credit, once the source has its money back.
 */
export type FailureReason = 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED' | 'BALANCE_LIMIT_EXCEEDED';

export type MoneyTransferEvent =
  | Event<'MoneyTransferCreated', { fromAccountId: string; toAccountId: string; amount: string; currency: string }>
  | Event<'MoneyTransferDebited', Record<string, never>>
  | Event<'MoneyTransferCompleted', Record<string, never>>
  | Event<'MoneyTransferFailed', { reason: FailureReason }>;

/** What the transfer needs to know of an account when it is requested (looked up by the caller). */
export type AccountSummary = { readonly status: 'OPEN' | 'CLOSED'; readonly currency: string };

export type MoneyTransferCommand =
  | {
      readonly type: 'CreateMoneyTransfer';
      readonly fromAccountId: string;
      readonly toAccountId: string;
      readonly amount: string;
      /** The accounts as they are now; undefined when one does not exist. */
      readonly from: AccountSummary | undefined;
      readonly to: AccountSummary | undefined;
    }
  | { readonly type: 'MarkDebited' }
  | { readonly type: 'MarkCompleted' }
  | { readonly type: 'MarkFailed'; readonly reason: FailureReason };

/** What a requested transfer is about. */
export type Terms = { readonly fromAccountId: string; readonly toAccountId: string; readonly amount: string; readonly currency: string };

export type MoneyTransfer =
  | { readonly status: 'NONE' }
  | (Terms & { readonly status: 'CREATED' | 'DEBITED' | 'COMPLETED' })
  | (Terms & { readonly status: 'FAILED'; readonly failureReason: FailureReason });

export const initialState: MoneyTransfer = { status: 'NONE' };

const positive = (value: string): boolean => {
  try {
    const amount = new Decimal(value);
    return amount.isFinite() && amount.gt(0);
  } catch {
    return false;
  }
};

const create = (command: Extract<MoneyTransferCommand, { type: 'CreateMoneyTransfer' }>, state: MoneyTransfer) => {
  if (state.status !== 'NONE') throw new AlreadyExistsError('this money transfer already exists');
  if (command.fromAccountId === command.toAccountId) {
    throw new ValidationError('a transfer needs two different accounts', 'toAccountId');
  }
  if (!positive(command.amount)) throw new ValidationError('amount must be greater than zero', 'amount');
  if (!command.from) throw new NotFoundError('the source account does not exist');
  if (!command.to) throw new NotFoundError('the target account does not exist');
  if (command.from.currency !== command.to.currency) {
    throw new ValidationError('both accounts must have the same currency', 'toAccountId');
  }
  if (command.from.status === 'CLOSED') throw new IllegalStateError('the source account is closed');
  if (command.to.status === 'CLOSED') throw new IllegalStateError('the target account is closed');
  const data = {
    fromAccountId: command.fromAccountId,
    toAccountId: command.toAccountId,
    amount: new Decimal(command.amount).toFixed(),
    currency: command.from.currency,
  };
  return [{ type: 'MoneyTransferCreated', data }] as const;
};

/**
 * The saga's steps. A step already taken appends nothing (redelivery is harmless); a step that
 * does not follow from the current status is ILLEGAL_STATE.
 */
const markDebited = (state: MoneyTransfer): readonly MoneyTransferEvent[] => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no money transfer has this id');
    case 'CREATED':
      return [{ type: 'MoneyTransferDebited', data: {} }];
    case 'DEBITED':
    case 'COMPLETED':
      return [];
    case 'FAILED':
      throw new IllegalStateError('this money transfer failed');
    default:
      return unreachable(state);
  }
};

const markCompleted = (state: MoneyTransfer): readonly MoneyTransferEvent[] => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no money transfer has this id');
    case 'DEBITED':
      return [{ type: 'MoneyTransferCompleted', data: {} }];
    case 'COMPLETED':
      return [];
    case 'CREATED':
      throw new IllegalStateError('this money transfer is not debited yet');
    case 'FAILED':
      throw new IllegalStateError('this money transfer failed');
    default:
      return unreachable(state);
  }
};

/** A debited transfer fails only when the target refused the credit (its source is refunded first). */
export const failsAfterDebit = (reason: FailureReason): boolean => reason === 'BALANCE_LIMIT_EXCEEDED';

const markFailed = (reason: FailureReason, state: MoneyTransfer): readonly MoneyTransferEvent[] => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no money transfer has this id');
    case 'CREATED':
      return [{ type: 'MoneyTransferFailed', data: { reason } }];
    case 'FAILED':
      return [];
    case 'DEBITED':
      if (failsAfterDebit(reason)) return [{ type: 'MoneyTransferFailed', data: { reason } }];
      throw new IllegalStateError('a debited money transfer cannot fail: its money is on the way');
    case 'COMPLETED':
      throw new IllegalStateError('a completed money transfer cannot fail');
    default:
      return unreachable(state);
  }
};

export const decide = (command: MoneyTransferCommand, state: MoneyTransfer): readonly MoneyTransferEvent[] => {
  switch (command.type) {
    case 'CreateMoneyTransfer':
      return create(command, state);
    case 'MarkDebited':
      return markDebited(state);
    case 'MarkCompleted':
      return markCompleted(state);
    case 'MarkFailed':
      return markFailed(command.reason, state);
    default:
      return unreachable(command);
  }
};

/**
 * Replay ignores a transition that cannot follow the current status (Completed before Debited,
 * a repeated Debited, Failed after Completed…): the state stays as it was.
 */
export const evolve = (state: MoneyTransfer, event: MoneyTransferEvent): MoneyTransfer => {
  switch (event.type) {
    case 'MoneyTransferCreated':
      return state.status === 'NONE' ? { status: 'CREATED', ...event.data } : state;
    case 'MoneyTransferDebited':
      return state.status === 'CREATED' ? { ...state, status: 'DEBITED' } : state;
    case 'MoneyTransferCompleted':
      return state.status === 'DEBITED' ? { ...state, status: 'COMPLETED' } : state;
    case 'MoneyTransferFailed':
      return state.status === 'CREATED' || (state.status === 'DEBITED' && failsAfterDebit(event.data.reason))
        ? { ...state, status: 'FAILED', failureReason: event.data.reason }
        : state;
    default:
      return unreachable(event);
  }
};

export const moneyTransferDecider: Decider<MoneyTransferCommand, MoneyTransfer, MoneyTransferEvent> = {
  initialState,
  decide,
  evolve,
};
