import { index, integer, numeric, text, timestamp } from 'drizzle-orm/pg-core';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import { failsAfterDebit, type MoneyTransferEvent } from './money-transfer.js';

export const moneyTransfers = projection.table(
  'money_transfers',
  {
    id: idColumn('id').primaryKey(),
    fromAccountId: idColumn('from_account_id').notNull(),
    toAccountId: idColumn('to_account_id').notNull(),
    amount: numeric('amount', { precision: 36, scale: 18 }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['CREATED', 'DEBITED', 'COMPLETED', 'FAILED'] }).notNull(),
    failureReason: text('failure_reason', { enum: ['INSUFFICIENT_FUNDS', 'ACCOUNT_CLOSED', 'BALANCE_LIMIT_EXCEEDED'] }),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  // An account's transfers, paged by id, from either side.
  (t) => [
    index('money_transfers_from_account').on(t.fromAccountId, t.id),
    index('money_transfers_to_account').on(t.toAccountId, t.id),
  ],
);

export type MoneyTransferView = typeof moneyTransfers.$inferSelect;

/**
 * How each event changes the row: pure, shared by the inline projection and time travel. Like
 * the decider's evolve, a transition that cannot follow the status leaves the status alone.
 */
export const evolveMoneyTransferView: ViewEvolve<MoneyTransferView, MoneyTransferEvent> = (view, event) => {
  if (event.type === 'MoneyTransferCreated') {
    if (view) return view;
    return {
      id: event.aggregateId,
      fromAccountId: event.data.fromAccountId,
      toAccountId: event.data.toAccountId,
      amount: event.data.amount,
      currency: event.data.currency,
      status: 'CREATED',
      failureReason: null,
      version: event.version,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  if (!view) return view;
  const touched = { ...view, version: event.version, updatedAt: event.occurredAt };
  switch (event.type) {
    case 'MoneyTransferDebited':
      return view.status === 'CREATED' ? { ...touched, status: 'DEBITED' } : touched;
    case 'MoneyTransferCompleted':
      return view.status === 'DEBITED' ? { ...touched, status: 'COMPLETED' } : touched;
    case 'MoneyTransferFailed':
      return view.status === 'CREATED' || (view.status === 'DEBITED' && failsAfterDebit(event.data.reason))
        ? { ...touched, status: 'FAILED', failureReason: event.data.reason }
        : touched;
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectMoneyTransfers = viewProjection(moneyTransfers, evolveMoneyTransferView);
