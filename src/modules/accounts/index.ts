import { rebuildable } from '../../eventstore/rebuild.js';
import type { Module } from '../module.js';
import { aggregateType } from './account.js';
import { projectAccounts } from './projection.js';

/** Accounts (from eventsourcing-cqrs-go): open, credit, debit (declined debits recorded), close. */
export const accountsModule: Module = {
  name: 'accounts',
  projections: [rebuildable({ projection: projectAccounts, aggregateType })],
  graphql: () => import('./graphql.js'),
};
