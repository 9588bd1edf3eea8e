import { defineAggregate } from '../../eventstore/aggregate.js';
import { fromView } from '../../eventstore/loaders.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { projectTransactions, transactionViews, type TransactionView } from './projection.js';
import { aggregateType, initialState, transactionDecider, type Transaction } from './transaction.js';

/** A transaction's whole state is in its projection row, so commands load it from there. */
const stateOf = (row: TransactionView) => {
  const base = { currency: row.currency, amount: row.amount };
  const state: Transaction =
    row.status === 'COMPLETED' ? { status: 'COMPLETED', ...base, doneBy: row.doneBy ?? '' } : { status: 'PROCESSING', ...base };
  return { state, version: row.version };
};

export const transactionAggregate = defineAggregate({
  type: aggregateType,
  decider: transactionDecider,
  load: fromView(transactionViews, stateOf, initialState),
  projections: [projectTransactions],
  respond: respondWithView(transactionViews, 'transaction'),
});
