import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import type { Decider } from '../../eventstore/decider.js';
import type { Event } from '../../eventstore/types.js';
import { Decimal } from '../../lib/decimal.js';
import { unreachable } from '../../lib/unreachable.js';

export const aggregateType = 'Transaction';
export const idPrefix = 'tx';

export type TransactionEvent =
  | Event<'TransactionCreated', { currency: string; amount: string }>
  | Event<'TransactionCompleted', { doneBy: string }>;

export type TransactionCommand =
  | { readonly type: 'CreateTransaction'; readonly currency: string; readonly amount: string }
  | { readonly type: 'CompleteTransaction'; readonly doneBy: string };

export type Transaction =
  | { readonly status: 'NONE' }
  | { readonly status: 'PROCESSING'; readonly currency: string; readonly amount: string }
  | { readonly status: 'COMPLETED'; readonly currency: string; readonly amount: string; readonly doneBy: string };

export const initialState: Transaction = { status: 'NONE' };

const currencyPattern = /^[A-Z]{3}$/;
export const maxDoneByLength = 200;

const create = (command: Extract<TransactionCommand, { type: 'CreateTransaction' }>, state: Transaction) => {
  if (state.status !== 'NONE') throw new AlreadyExistsError('this transaction already exists');
  if (command.currency.trim() === '') throw new ValidationError('currency must not be empty', 'currency');
  if (!currencyPattern.test(command.currency)) {
    throw new ValidationError('currency must be an ISO 4217 code of three capital letters', 'currency');
  }
  if (!new Decimal(command.amount).isPositive() || new Decimal(command.amount).isZero()) {
    throw new ValidationError('amount must be greater than zero', 'amount');
  }
  return [{ type: 'TransactionCreated', data: { currency: command.currency, amount: command.amount } }] as const;
};

const complete = (command: Extract<TransactionCommand, { type: 'CompleteTransaction' }>, state: Transaction) => {
  if (command.doneBy.trim() === '') throw new ValidationError('doneBy must not be empty', 'doneBy');
  if (command.doneBy.length > maxDoneByLength) {
    throw new ValidationError(`doneBy must be at most ${maxDoneByLength} characters`, 'doneBy');
  }
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no transaction has this id');
    case 'COMPLETED':
      throw new IllegalStateError('this transaction is already completed');
    case 'PROCESSING':
      return [{ type: 'TransactionCompleted', data: { doneBy: command.doneBy } }] as const;
    default:
      return unreachable(state);
  }
};

export const decide = (command: TransactionCommand, state: Transaction): readonly TransactionEvent[] => {
  switch (command.type) {
    case 'CreateTransaction':
      return create(command, state);
    case 'CompleteTransaction':
      return complete(command, state);
    default:
      return unreachable(command);
  }
};

export const evolve = (state: Transaction, event: TransactionEvent): Transaction => {
  switch (event.type) {
    case 'TransactionCreated':
      return { status: 'PROCESSING', currency: event.data.currency, amount: event.data.amount };
    case 'TransactionCompleted':
      return state.status === 'PROCESSING' ? { ...state, status: 'COMPLETED', doneBy: event.data.doneBy } : state;
    default:
      return unreachable(event);
  }
};

export const transactionDecider: Decider<TransactionCommand, Transaction, TransactionEvent> = {
  initialState,
  decide,
  evolve,
};
