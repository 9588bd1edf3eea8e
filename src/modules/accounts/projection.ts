import { Decimal } from 'decimal.js';
import { eq } from 'drizzle-orm';
import { integer, numeric, text, timestamp } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import type { AccountEvent } from './account.js';

export const accounts = projection.table('accounts', {
  id: idColumn('id').primaryKey(),
  owner: text('owner').notNull(),
  currency: text('currency').notNull(),
  balance: numeric('balance', { precision: 36, scale: 18 }).notNull(),
  status: text('status', { enum: ['OPEN', 'CLOSED'] }).notNull(),
  version: integer('version').notNull(),
  openedAt: timestamp('opened_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export type AccountView = typeof accounts.$inferSelect;

const plus = (balance: string, amount: string) => new Decimal(balance).plus(amount).toFixed();
const minus = (balance: string, amount: string) => new Decimal(balance).minus(amount).toFixed();

/** How each event changes the row: pure, shared by the inline projection and time travel. */
export const evolveAccountView: ViewEvolve<AccountView, AccountEvent> = (view, event) => {
  if (event.type === 'AccountOpened') {
    return {
      id: event.aggregateId,
      owner: event.data.owner,
      currency: event.data.currency,
      balance: new Decimal(event.data.initialBalance).toFixed(),
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
      return { ...touched, balance: plus(view.balance, event.data.amount) };
    case 'AccountDebited':
    case 'AccountDebitedForTransfer':
      return { ...touched, balance: minus(view.balance, event.data.amount) };
    case 'AccountDebitDeclined':
    case 'AccountTransferDebitDeclined':
      return touched;
    case 'AccountClosed':
      return { ...touched, status: 'CLOSED' };
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectAccounts = viewProjection(accounts, evolveAccountView);

export const findAccountView = async (db: Executor, id: string): Promise<AccountView | undefined> => {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
  return row;
};
