import { integer, numeric, text, timestamp } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { findRow, viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { add, subtract } from '../../lib/decimal.js';
import { unreachable } from '../../lib/unreachable.js';
import type { AccountEvent } from './account.js';

export const accounts = projection.table('accounts', {
  id: idColumn('id').primaryKey(),
  owner: text('owner').notNull(),
  currency: text('currency').notNull(),
  // Unbounded: amounts carry at most 18 integer digits and commands keep balances below 10^18,
  // but a transfer refunded to its source must always fit, whatever the source received meanwhile.
  balance: numeric('balance').notNull(),
  status: text('status', { enum: ['OPEN', 'CLOSED'] }).notNull(),
  version: integer('version').notNull(),
  openedAt: timestamp('opened_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export type AccountView = typeof accounts.$inferSelect;


/** How each event changes the row: pure, shared by the inline projection and time travel. */
export const evolveAccountView: ViewEvolve<AccountView, AccountEvent> = (view, event) => {
  if (event.type === 'AccountOpened') {
    return {
      id: event.aggregateId,
      owner: event.data.owner,
      currency: event.data.currency,
      balance: add(event.data.initialBalance, '0'),
      status: 'OPEN',
      version: event.version,
      openedAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  if (!view) return view;
  const touched = { ...view, version: event.version, updatedAt: event.occurredAt };
  switch (event.type) {
    case 'AccountCredited':
    case 'AccountCreditedForTransfer':
    case 'AccountTransferRefunded':
      return { ...touched, balance: add(view.balance, event.data.amount) };
    case 'AccountDebited':
    case 'AccountDebitedForTransfer':
      return { ...touched, balance: subtract(view.balance, event.data.amount) };
    case 'AccountDebitDeclined':
    case 'AccountTransferDebitDeclined':
    case 'AccountTransferCreditDeclined':
      return touched;
    case 'AccountClosed':
      return { ...touched, status: 'CLOSED' };
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectAccounts = viewProjection(accounts, evolveAccountView);

/** An account's row, for the saga's look at a transfer's target. */
export const findAccountView = (db: Executor, id: string): Promise<AccountView | undefined> => findRow(db, accounts, id);
