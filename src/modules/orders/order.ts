import type { Decider } from '../../eventstore/decider.js';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import type { Event } from '../../eventstore/types.js';
import { unreachable } from '../../lib/unreachable.js';

export const aggregateType = 'Order';
export const idPrefix = 'ord';
export const maxNameLength = 200;

export type OrderEvent =
  | Event<'OrderCreated', { readonly name: string }>
  | Event<'OrderProcessingRequested', Record<string, never>>
  | Event<'OrderProcessed', Record<string, never>>;

export type OrderCommand =
  | { readonly type: 'CreateOrder'; readonly name: string }
  | { readonly type: 'ProcessOrder' }
  /** Issued by the order processor in answer to OrderProcessingRequested. */
  | { readonly type: 'CompleteOrderProcessing' };

export type OrderStatus = 'NEW' | 'PROCESSING' | 'PROCESSED';

export type Order = { readonly status: 'NONE' } | { readonly status: OrderStatus; readonly name: string };

export const initialState: Order = { status: 'NONE' };

const create = (command: Extract<OrderCommand, { type: 'CreateOrder' }>, state: Order) => {
  if (state.status !== 'NONE') throw new AlreadyExistsError('this order already exists');
  if (command.name.trim() === '') throw new ValidationError('name must not be empty', 'name');
  if (command.name.length > maxNameLength) throw new ValidationError(`name must be at most ${maxNameLength} characters`, 'name');
  return [{ type: 'OrderCreated', data: { name: command.name } }] as const;
};

const requestProcessing = (state: Order) => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no order has this id');
    case 'NEW':
      return [{ type: 'OrderProcessingRequested', data: {} }] as const;
    case 'PROCESSING':
      throw new IllegalStateError('this order is already being processed');
    case 'PROCESSED':
      throw new IllegalStateError('this order is already processed');
    default:
      return unreachable(state);
  }
};

/** Idempotent: a redelivered request for a processed order records nothing. */
const completeProcessing = (state: Order) => {
  switch (state.status) {
    case 'NONE':
      throw new NotFoundError('no order has this id');
    case 'NEW':
      throw new IllegalStateError('processing of this order was never requested');
    case 'PROCESSING':
      return [{ type: 'OrderProcessed', data: {} }] as const;
    case 'PROCESSED':
      return [];
    default:
      return unreachable(state);
  }
};

export const decide = (command: OrderCommand, state: Order): readonly OrderEvent[] => {
  switch (command.type) {
    case 'CreateOrder':
      return create(command, state);
    case 'ProcessOrder':
      return requestProcessing(state);
    case 'CompleteOrderProcessing':
      return completeProcessing(state);
    default:
      return unreachable(command);
  }
};

const next = (state: Order, status: OrderStatus): Order => (state.status === 'NONE' ? state : { ...state, status });

export const evolve = (state: Order, event: OrderEvent): Order => {
  switch (event.type) {
    case 'OrderCreated':
      return { status: 'NEW', name: event.data.name };
    case 'OrderProcessingRequested':
      return next(state, 'PROCESSING');
    case 'OrderProcessed':
      return next(state, 'PROCESSED');
    default:
      return unreachable(event);
  }
};

export const orderDecider: Decider<OrderCommand, Order, OrderEvent> = { initialState, decide, evolve };
