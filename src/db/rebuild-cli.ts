/**
 * `npm run projections:rebuild -- <table>`: rebuilds one projection table from the event store
 * (see `rebuildViewProjection` in src/eventstore/rebuild.ts). Safe while servers are running.
 */
import { loadConfig } from '../config.js';
import { rebuildViewProjection, type RebuildOptions, type RebuildTarget } from '../eventstore/rebuild.js';
import type { ViewTable } from '../eventstore/view-projection.js';
import { createLogger } from '../logger.js';
import { aggregateType as account } from '../modules/accounts/account.js';
import { projectAccounts } from '../modules/accounts/projection.js';
import { aggregateType as moneyTransfer } from '../modules/money-transfers/money-transfer.js';
import { projectMoneyTransfers } from '../modules/money-transfers/projection.js';
import { aggregateType as order } from '../modules/orders/order.js';
import { projectOrders } from '../modules/orders/projection.js';
import { aggregateType as organization } from '../modules/organizations/organization.js';
import { projectOrganizations } from '../modules/organizations/projection.js';
import { projectTransactions } from '../modules/transactions/projection.js';
import { aggregateType as transaction } from '../modules/transactions/transaction.js';
import { provideDatabase } from './database.js';

const rebuilder =
  <T extends ViewTable>(target: RebuildTarget<T>) =>
  (url: string, options: RebuildOptions) =>
    rebuildViewProjection(url, target, options);

/** Every module's projection, by table name, with the aggregate type whose streams it folds. */
const projections = {
  accounts: rebuilder({ projection: projectAccounts, aggregateType: account }),
  money_transfers: rebuilder({ projection: projectMoneyTransfers, aggregateType: moneyTransfer }),
  orders: rebuilder({ projection: projectOrders, aggregateType: order }),
  organizations: rebuilder({ projection: projectOrganizations, aggregateType: organization }),
  transaction_views: rebuilder({ projection: projectTransactions, aggregateType: transaction }),
};

const name = process.argv[2] ?? '';
if (!Object.hasOwn(projections, name)) {
  console.error(`usage: npm run projections:rebuild -- <${Object.keys(projections).join('|')}>`);
  process.exit(2);
}
const rebuild = projections[name as keyof typeof projections];

const config = loadConfig();
const logger = createLogger(config.logLevel, { component: 'rebuild' });
const database = await provideDatabase(config, logger);
try {
  const result = await rebuild(database.url, {
    onPage: ({ events, streams }) => logger.debug('page folded', { events, streams }),
  });
  logger.info('projection rebuilt', { projection: name, ...result });
} finally {
  await database.stop();
}
