import { rebuildable } from '../../eventstore/rebuild.js';
import type { Module } from '../module.js';
import { projectTransactions } from './projection.js';
import { aggregateType } from './transaction.js';

/** Transactions (from es-go): created, then completed; loaded from their projection row. */
export const transactionsModule: Module = {
  name: 'transactions',
  projections: [rebuildable({ projection: projectTransactions, aggregateType })],
  graphql: () => import('./graphql.js'),
};
