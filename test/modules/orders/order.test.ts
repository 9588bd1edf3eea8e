import { describe, it } from 'vitest';
import { AlreadyExistsError, IllegalStateError, NotFoundError, ValidationError } from '../../../src/eventstore/errors.js';
import { orderDecider, type OrderEvent } from '../../../src/modules/orders/order.js';
import { deciderSpec } from '../../helpers/decider.js';

const { given } = deciderSpec(orderDecider);
const created = (name = 'books'): OrderEvent => ({ type: 'OrderCreated', data: { name } });
const requested: OrderEvent = { type: 'OrderProcessingRequested', data: {} };
const processed: OrderEvent = { type: 'OrderProcessed', data: {} };

describe('order decider', () => {
  it('creates an order', () => given([]).when({ type: 'CreateOrder', name: 'books' }).then([created()]));

  it('refuses a duplicate id', () =>
    given([created()]).when({ type: 'CreateOrder', name: 'other' }).thenThrows(AlreadyExistsError, 'ALREADY_EXISTS'));

  it.each([
    ['empty', ''],
    ['blank', '  '],
    ['longer than 200 characters', 'x'.repeat(201)],
  ])('refuses a name that is %s', (_, name) =>
    given([]).when({ type: 'CreateOrder', name }).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('requests processing of a new order', () => given([created()]).when({ type: 'ProcessOrder' }).then([requested]));

  it('cannot process an unknown order', () => given([]).when({ type: 'ProcessOrder' }).thenThrows(NotFoundError, 'NOT_FOUND'));

  it('cannot process an order being processed', () =>
    given([created(), requested]).when({ type: 'ProcessOrder' }).thenThrows(IllegalStateError, 'ILLEGAL_STATE'));

  it('cannot process a processed order', () =>
    given([created(), requested, processed]).when({ type: 'ProcessOrder' }).thenThrows(IllegalStateError, 'ILLEGAL_STATE'));

  it('completes processing that was requested', () =>
    given([created(), requested]).when({ type: 'CompleteOrderProcessing' }).then([processed]));

  it('completes processing at most once (a redelivered request records nothing)', () =>
    given([created(), requested, processed]).when({ type: 'CompleteOrderProcessing' }).then([]));

  it('cannot complete processing that was never requested', () => {
    given([created()]).when({ type: 'CompleteOrderProcessing' }).thenThrows(IllegalStateError);
    given([]).when({ type: 'CompleteOrderProcessing' }).thenThrows(NotFoundError);
  });

  it('evolves through NEW, PROCESSING and PROCESSED', () => {
    given([created('a')]).thenState({ status: 'NEW', name: 'a' });
    given([created('a'), requested]).thenState({ status: 'PROCESSING', name: 'a' });
    given([created('a'), requested, processed]).thenState({ status: 'PROCESSED', name: 'a' });
  });
});
