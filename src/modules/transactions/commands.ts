import { handleCommand, type CommandContext } from '../../eventstore/command.js';
import type { EventStore } from '../../eventstore/store.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { findTransactionView, loadFromView, projectTransactions, type TransactionView } from './projection.js';
import { aggregateType, decide, evolve, type TransactionCommand } from './transaction.js';

export type TransactionStore = EventStore<PostgresSession>;

const run = (
  store: TransactionStore,
  id: string,
  command: TransactionCommand,
  context: CommandContext,
  expectedVersion?: number,
) =>
  handleCommand(
    store,
    {
      aggregateType,
      aggregateId: id,
      ...(expectedVersion !== undefined && { expectedVersion }),
      load: loadFromView,
      decide: (state) => decide(command, state),
      evolve,
      projections: [projectTransactions],
      respond: async (session, outcome): Promise<TransactionView> => {
        const view = await findTransactionView(session.tx, outcome.aggregateId);
        if (!view) throw new Error(`transaction view ${outcome.aggregateId} was not written`);
        return view;
      },
    },
    context,
  );

export const createTransaction = (
  store: TransactionStore,
  input: { id: string; currency: string; amount: string },
  context: CommandContext,
) => run(store, input.id, { type: 'CreateTransaction', currency: input.currency, amount: input.amount }, context);

export const completeTransaction = (
  store: TransactionStore,
  input: { id: string; doneBy: string; expectedVersion?: number },
  context: CommandContext,
) => run(store, input.id, { type: 'CompleteTransaction', doneBy: input.doneBy }, context, input.expectedVersion);
