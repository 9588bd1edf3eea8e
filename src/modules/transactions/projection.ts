import { integer, numeric, text, timestamp } from 'drizzle-orm/pg-core';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import type { TransactionEvent } from './transaction.js';

export const transactionViews = projection.table('transaction_views', {
  id: idColumn('id').primaryKey(),
  version: integer('version').notNull(),
  status: text('status', { enum: ['PROCESSING', 'COMPLETED'] }).notNull(),
  currency: text('currency').notNull(),
  amount: numeric('amount', { precision: 36, scale: 18 }).notNull(),
  doneBy: text('done_by'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export type TransactionView = typeof transactionViews.$inferSelect;

/** How each event changes the row: pure, shared by the inline projection and time travel. */
export const evolveTransactionView: ViewEvolve<TransactionView, TransactionEvent> = (view, event) => {
  switch (event.type) {
    case 'TransactionCreated':
      return {
        id: event.aggregateId,
        version: event.version,
        status: 'PROCESSING',
        currency: event.data.currency,
        amount: event.data.amount,
        doneBy: null,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    case 'TransactionCompleted':
      return (
        view && { ...view, status: 'COMPLETED', doneBy: event.data.doneBy, version: event.version, updatedAt: event.occurredAt }
      );
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectTransactions = viewProjection(transactionViews, evolveTransactionView);
