import { rebuildable } from '../../eventstore/rebuild.js';
import type { Module } from '../module.js';
import { aggregateType } from './order.js';
import { orderProcessor } from './processor.js';
import { projectOrders } from './projection.js';

/** Orders (from go-event-sourcing): created, then processed asynchronously by the order processor. */
export const ordersModule: Module = {
  name: 'orders',
  projections: [rebuildable({ projection: projectOrders, aggregateType })],
  processManagers: [orderProcessor],
  graphql: () => import('./graphql.js'),
};
