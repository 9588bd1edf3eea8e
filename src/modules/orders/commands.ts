import type { CommandContext } from '../../eventstore/command.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { createRepository } from '../../eventstore/repository.js';
import type { EventStore } from '../../eventstore/store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { aggregateType, orderDecider } from './order.js';
import { orders, projectOrders } from './projection.js';

export type OrderStore = EventStore<PostgresSession>;

/** Orders are short streams (three events at most): commands replay them. */
export const orderRepository = (store: OrderStore) =>
  createRepository(store, {
    aggregateType,
    decider: orderDecider,
    projections: [projectOrders],
    respond: respondWithView(orders, 'order'),
  });

export const createOrder = (store: OrderStore, input: { id: string; name: string }, context: CommandContext) =>
  orderRepository(store).update(input.id, { type: 'CreateOrder', name: input.name }, context);

export const processOrder = (store: OrderStore, input: { id: string; expectedVersion?: number }, context: CommandContext) =>
  orderRepository(store).update(input.id, { type: 'ProcessOrder' }, context, input.expectedVersion);
