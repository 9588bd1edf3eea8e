import { accountsModule } from './accounts/index.js';
import type { Module } from './module.js';
import { moneyTransfersModule } from './money-transfers/index.js';
import { ordersModule } from './orders/index.js';
import { organizationsModule } from './organizations/index.js';
import { transactionsModule } from './transactions/index.js';

/**
 * Every module, listed once: the schema, the rebuild command and the process-manager runner read
 * them from here. Adding an aggregate is a folder under src/modules/ and one line here.
 */
export const modules: Module[] = [transactionsModule, organizationsModule, ordersModule, accountsModule, moneyTransfersModule];

/** Every module's process managers, run by each server instance (one active cluster-wide). */
export const processManagers = () => modules.flatMap((module) => module.processManagers ?? []);

/** Every rebuildable projection, by its table's name. */
export const rebuildables = () => new Map(modules.flatMap((module) => module.projections).map((target) => [target.table, target]));
