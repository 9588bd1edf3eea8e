/** The Drizzle schema index: every table, for drizzle-kit and the migrator. */
export * from '../eventstore/tables.js';
export * from '../modules/transactions/projection.js';
export * from '../modules/organizations/projection.js';
export * from '../modules/orders/projection.js';
export * from '../modules/accounts/projection.js';
export * from '../modules/money-transfers/projection.js';
export * from './projection-schema.js';
