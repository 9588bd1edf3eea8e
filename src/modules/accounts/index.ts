/** The accounts module's public surface. */
export * from './account.js';
export { InsufficientFundsError } from './errors.js';
export { accountRepository, openAccount, creditAccount, debitAccount, closeAccount, type AccountResult } from './commands.js';
export { accounts, findAccountView, type AccountView } from './projection.js';
