import { eq } from 'drizzle-orm';
import { integer, numeric, text, timestamp } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import type { Loaded } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { lockView, viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import type { Transaction, TransactionEvent } from './transaction.js';

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
export const evolveView: ViewEvolve<TransactionView, TransactionEvent> = (view, event) => {
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
export const projectTransactions = viewProjection(transactionViews, evolveView);

export const findTransactionView = async (db: Executor, id: string): Promise<TransactionView | undefined> => {
  const [row] = await db.select().from(transactionViews).where(eq(transactionViews.id, id));
  return row;
};

/**
 * es-go's loader: the aggregate is read from its projection row, not replayed. The row is locked
 * so concurrent commands on one transaction queue instead of racing to a conflict.
 */
export const loadFromView = async (session: PostgresSession, id: string): Promise<Loaded<Transaction>> => {
  const row = await lockView(session, transactionViews, id);
  if (!row) return { state: { status: 'NONE' }, version: 0 };
  const base = { currency: row.currency, amount: row.amount };
  return {
    version: row.version,
    state:
      row.status === 'COMPLETED'
        ? { status: 'COMPLETED', ...base, doneBy: row.doneBy ?? '' }
        : { status: 'PROCESSING', ...base },
  };
};
