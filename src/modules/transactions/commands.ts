import type { CommandContext } from '../../eventstore/command.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { createRepository } from '../../eventstore/repository.js';
import type { EventStore } from '../../eventstore/store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { loadFromView, projectTransactions, transactionViews } from './projection.js';
import { aggregateType, transactionDecider } from './transaction.js';

export type TransactionStore = EventStore<PostgresSession>;

/** The transactions repository: loaded from its projection row, as es-go does. */
export const transactionRepository = (store: TransactionStore) =>
  createRepository(store, {
    aggregateType,
    decider: transactionDecider,
    load: loadFromView,
    projections: [projectTransactions],
    respond: respondWithView(transactionViews, 'transaction'),
  });

export const createTransaction = (
  store: TransactionStore,
  input: { id: string; currency: string; amount: string },
  context: CommandContext,
) =>
  transactionRepository(store).update(
    input.id,
    { type: 'CreateTransaction', currency: input.currency, amount: input.amount },
    context,
  );

export const completeTransaction = (
  store: TransactionStore,
  input: { id: string; doneBy: string; expectedVersion?: number },
  context: CommandContext,
) =>
  transactionRepository(store).update(
    input.id,
    { type: 'CompleteTransaction', doneBy: input.doneBy },
    context,
    input.expectedVersion,
  );
