import { describe, it } from 'vitest';
import type { OrderEvent } from '../../../src/modules/orders/order.js';
import { evolveOrderView } from '../../../src/modules/orders/projection.js';
import { occurredAt, viewSpec } from '../../helpers/view.js';

const id = 'ord_view';
const { given } = viewSpec(evolveOrderView, id);
const created: OrderEvent = { type: 'OrderCreated', data: { name: 'espresso' } };
const requested: OrderEvent = { type: 'OrderProcessingRequested', data: {} };
const processed: OrderEvent = { type: 'OrderProcessed', data: {} };

describe('the orders row (evolveOrderView)', () => {
  it('is NEW after OrderCreated', () =>
    given([created]).then({ id, name: 'espresso', status: 'NEW', version: 1, createdAt: occurredAt(0), updatedAt: occurredAt(0) }));

  it('is PROCESSING, then PROCESSED', () => {
    given([created, requested]).thenMatches({ status: 'PROCESSING', version: 2, updatedAt: occurredAt(1) });
    given([created, requested, processed]).thenMatches({ status: 'PROCESSED', version: 3, updatedAt: occurredAt(2) });
  });

  it('has no row for events without a creation', () => given([requested]).then(undefined));
});
