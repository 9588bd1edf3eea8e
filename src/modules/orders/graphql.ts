import { eq } from 'drizzle-orm';
import { AlreadyExistsError, IllegalStateError, NotFoundError } from '../../eventstore/errors.js';
import { viewAtVersion } from '../../eventstore/view-projection.js';
import { checkIdempotencyKey, clientIdOrNew, existingId } from '../../graphql/input.js';
import { builder } from '../../graphql/builder.js';
import { projectionChanges, rowAsOfEvent } from '../../graphql/changes.js';
import { commandContext } from '../../graphql/command.js';
import { connectionType, pageById } from '../../graphql/connection.js';
import { commandErrors } from '../../graphql/errors.js';
import { EventInterface, eventType } from '../../graphql/event.js';
import { NodeInterface, registerNode } from '../../graphql/node.js';
import { createOrder, processOrder } from './commands.js';
import { idPrefix, type OrderEvent } from './order.js';
import { evolveOrderView, findOrder, orders, type OrderView } from './projection.js';


export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order is in its life.',
  values: {
    NEW: { description: 'Created, not yet sent for processing.' },
    PROCESSING: { description: 'Processing was requested; the order processor has not answered yet.' },
    PROCESSED: { description: 'The order processor has processed it.' },
  },
});

export const OrderType = builder.objectRef<OrderView>('Order').implement({
  description: 'An order (from go-event-sourcing): created, then processed asynchronously by the order processor.',
  interfaces: [NodeInterface],
  isTypeOf: (value) =>
    typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.startsWith(`${idPrefix}_`),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'An `ord_` KSUID.' }),
    name: t.exposeString('name', { description: 'Its name (1–200 characters).' }),
    status: t.field({ type: OrderStatusEnum, description: 'NEW, PROCESSING or PROCESSED.', resolve: (v) => v.status }),
    version: t.exposeInt('version', { description: 'Stream version this row reflects.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
    events: t.field({
      type: [EventInterface],
      description: 'Its stream, oldest first.',
      resolve: (v, _, { services }) => services.store.readStream(v.id),
    }),
  }),
});

eventType<Extract<OrderEvent, { type: 'OrderCreated' }>>('OrderCreated', 'An order was created.', (t) => ({
  name: t.string({ description: 'Its name.', resolve: (e) => e.data.name }),
}));
eventType<Extract<OrderEvent, { type: 'OrderProcessingRequested' }>>(
  'OrderProcessingRequested',
  'Processing of an order was requested; the order processor answers with OrderProcessed.',
  () => ({}),
);
eventType<Extract<OrderEvent, { type: 'OrderProcessed' }>>(
  'OrderProcessed',
  'The order processor processed an order; `metadata.causationId` is the request’s event id.',
  () => ({}),
);

registerNode(idPrefix, 'Order', (id, { services }) => findOrder(services.db, id));

const checkId = (id: string | number | null | undefined): string => clientIdOrNew(idPrefix, id);


const CreateOrderInput = builder.inputType('CreateOrderInput', {
  description: 'Create an order.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `ord_` KSUID; generated when absent.' }),
    name: t.string({ required: true, description: 'Its name (1–200 characters).' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

const ProcessOrderInput = builder.inputType('ProcessOrderInput', {
  description: 'Send a new order for processing.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The order.' }),
    expectedVersion: t.int({ description: 'Fail with CONCURRENCY_CONFLICT unless the order is at this version.' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

builder.mutationFields((t) => ({
  createOrder: t.field({
    type: OrderType,
    description: 'Create an order; status NEW.',
    args: { input: t.arg({ type: CreateOrderInput, required: true, description: 'What to create.' }) },
    errors: {
      types: [...commandErrors, AlreadyExistsError],
      union: { description: 'The created order, or why it could not be created.' },
      result: { description: 'The order was created.' },
      dataField: { name: 'order', description: 'The order as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = checkId(input.id);
      const result = await createOrder(
        context.services.store,
        { id, name: input.name },
        commandContext('createOrder', input, context),
      );
      return result.result;
    },
  }),
  processOrder: t.field({
    type: OrderType,
    description: 'Request processing; status PROCESSING until the order processor makes it PROCESSED.',
    args: { input: t.arg({ type: ProcessOrderInput, required: true, description: 'What to process.' }) },
    errors: {
      types: [...commandErrors, NotFoundError, IllegalStateError],
      union: { description: 'The order, now PROCESSING, or why it could not be processed.' },
      result: { description: 'Processing was requested.' },
      dataField: { name: 'order', description: 'The order as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingId(idPrefix, input.id, 'order');
      const result = await processOrder(
        context.services.store,
        { id, ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }) },
        commandContext('processOrder', { ...input, id }, context),
      );
      return result.result;
    },
  }),
}));

const OrderConnection = connectionType<OrderView>('Order', OrderType, 'A page of orders, oldest id first.');

builder.queryFields((t) => ({
  order: t.field({
    type: OrderType,
    nullable: true,
    description: 'One order by id; null when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'An `ord_` id.' }),
      atVersion: t.arg.int({ description: 'Time travel: the order as it was right after this version.' }),
    },
    resolve: async (_, { id, atVersion }, { services }) =>
      atVersion === null || atVersion === undefined
        ? ((await findOrder(services.db, String(id))) ?? null)
        : viewAtVersion(services.store, String(id), atVersion, evolveOrderView),
  }),
  orders: t.field({
    type: OrderConnection,
    description: 'All orders, or those in one status, paged.',
    args: {
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
      status: t.arg({ type: OrderStatusEnum, description: 'Only orders in this status.' }),
    },
    resolve: (_, args, { services }) =>
      pageById(services.db, orders, args, args.status == null ? undefined : eq(orders.status, args.status)),
  }),
}));

builder.subscriptionField('orderChanged', (t) =>
  t.field({
    type: OrderType,
    description:
      'The order after each committed change, from now on: one push per change (NEW, PROCESSING, PROCESSED), versions only go up.',
    args: { id: t.arg.id({ required: true, description: 'An `ord_` id.' }) },
    // The row as of each event, not the current row: a fast processor must not hide PROCESSING.
    subscribe: (_, { id }, { services }) =>
      projectionChanges(services, String(id), rowAsOfEvent(services, (key) => findOrder(services.db, key), evolveOrderView)),
    resolve: (view) => view,
  }),
);
