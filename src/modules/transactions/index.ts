/** The transactions module's public surface. */
export * from './transaction.js';
export { createTransaction, completeTransaction } from './commands.js';
export { transactionViews, findTransactionView, type TransactionView } from './projection.js';
