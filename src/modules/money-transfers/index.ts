import { rebuildable } from '../../eventstore/rebuild.js';
import type { Module } from '../module.js';
import { aggregateType } from './money-transfer.js';
import { projectMoneyTransfers } from './projection.js';
import { moneyTransferSaga } from './saga.js';

/** Money transfers (from eventsourcing-cqrs-go): requested here, carried out by the transfer saga. */
export const moneyTransfersModule: Module = {
  name: 'money-transfers',
  projections: [rebuildable({ projection: projectMoneyTransfers, aggregateType })],
  processManagers: [moneyTransferSaga],
  graphql: () => import('./graphql.js'),
};
