import { defineAggregate } from '../../eventstore/aggregate.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { aggregateType, orderDecider } from './order.js';
import { orders, projectOrders } from './projection.js';

/** Orders are short streams (three events at most): commands replay them. */
export const orderAggregate = defineAggregate({
  type: aggregateType,
  decider: orderDecider,
  projections: [projectOrders],
  respond: respondWithView(orders, 'order'),
});
