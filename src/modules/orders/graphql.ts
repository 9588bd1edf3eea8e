import { eq } from 'drizzle-orm';
import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { builder } from '../../graphql/builder.js';
import { commandField } from '../../graphql/command-field.js';
import { eventType } from '../../graphql/event.js';
import { clientIdOrNew, existingId } from '../../graphql/input.js';
import { projectionNode } from '../../graphql/projection-node.js';
import { orderAggregate } from './aggregate.js';
import { idPrefix, type OrderEvent, type OrderStatus } from './order.js';
import { evolveOrderView, orders } from './projection.js';

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order is in its life.',
  values: {
    NEW: { description: 'Created, not yet sent for processing.' },
    PROCESSING: { description: 'Processing was requested; the order processor has not answered yet.' },
    PROCESSED: { description: 'The order processor has processed it.' },
  },
});

export const OrderType = projectionNode({
  name: 'Order',
  description: 'An order (from go-event-sourcing): created, then processed asynchronously by the order processor.',
  idPrefix,
  noun: { one: 'order', many: 'orders' },
  table: orders,
  evolve: evolveOrderView,
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name (1–200 characters).' }),
    status: t.field({ type: OrderStatusEnum, description: 'NEW, PROCESSING or PROCESSED.', resolve: (v) => v.status }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
  }),
  list: {
    description: 'All orders, or those in one status, paged.',
    args: (arg) => ({ status: arg({ type: OrderStatusEnum, description: 'Only orders in this status.' }) }),
    filter: ({ status }) => (status == null ? undefined : eq(orders.status, status as OrderStatus)),
  },
  changed: 'The order after each committed change, from now on: one push per change (PROCESSING, PROCESSED), versions only go up.',
});

type Of<T extends OrderEvent['type']> = Extract<OrderEvent, { type: T }>;

eventType<Of<'OrderCreated'>>('OrderCreated', 'An order was created.', (t) => ({
  name: t.string({ description: 'Its name.', resolve: (e) => e.data.name }),
}));
eventType<Of<'OrderProcessingRequested'>>(
  'OrderProcessingRequested',
  'Processing of an order was requested; the order processor answers with OrderProcessed.',
  () => ({}),
);
eventType<Of<'OrderProcessed'>>(
  'OrderProcessed',
  'The order processor processed an order; `metadata.causationId` is the request’s event id.',
  () => ({}),
);

const key = { description: 'Retries with the same key return the first result.' };

const CreateOrderInput = builder.inputType('CreateOrderInput', {
  description: 'Create an order.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `ord_` KSUID; generated when absent.' }),
    name: t.string({ required: true, description: 'Its name (1–200 characters).' }),
    idempotencyKey: t.string(key),
  }),
});

const ProcessOrderInput = builder.inputType('ProcessOrderInput', {
  description: 'Send a new order for processing.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The order.' }),
    expectedVersion: t.int({ description: 'Fail with CONCURRENCY_CONFLICT unless the order is at this version.' }),
    idempotencyKey: t.string(key),
  }),
});

const data = { name: 'order', description: 'The order as this command wrote it.' };

commandField('createOrder', {
  description: 'Create an order; status NEW.',
  input: CreateOrderInput,
  inputDescription: 'What to create.',
  type: OrderType,
  data,
  errors: [AlreadyExistsError],
  union: 'The created order, or why it could not be created.',
  result: 'The order was created.',
  run: ({ id, name }, call) => call.handle(orderAggregate, clientIdOrNew(idPrefix, id), { type: 'CreateOrder', name }, { newStream: true }),
});

commandField('processOrder', {
  description: 'Request processing; status PROCESSING until the order processor makes it PROCESSED.',
  input: ProcessOrderInput,
  inputDescription: 'What to process.',
  type: OrderType,
  data,
  errors: [NotFoundError, IllegalStateError],
  union: 'The order, now PROCESSING, or why it could not be processed.',
  result: 'Processing was requested.',
  run: ({ id }, call) => call.handle(orderAggregate, existingId(idPrefix, id, 'order'), { type: 'ProcessOrder' }),
});
