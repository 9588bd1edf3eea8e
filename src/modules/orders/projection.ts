import { index, integer, text, timestamp } from 'drizzle-orm/pg-core';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import type { OrderEvent } from './order.js';

export const orders = projection.table(
  'orders',
  {
    id: idColumn('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status', { enum: ['NEW', 'PROCESSING', 'PROCESSED'] }).notNull(),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('orders_status_id').on(t.status, t.id)],
);

export type OrderView = typeof orders.$inferSelect;

/** How each event changes the row: pure, shared by the inline projection, time travel and `orderChanged`. */
export const evolveOrderView: ViewEvolve<OrderView, OrderEvent> = (view, event) => {
  switch (event.type) {
    case 'OrderCreated':
      return {
        id: event.aggregateId,
        name: event.data.name,
        status: 'NEW',
        version: event.version,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    case 'OrderProcessingRequested':
      return view && { ...view, status: 'PROCESSING', version: event.version, updatedAt: event.occurredAt };
    case 'OrderProcessed':
      return view && { ...view, status: 'PROCESSED', version: event.version, updatedAt: event.occurredAt };
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectOrders = viewProjection(orders, evolveOrderView);
