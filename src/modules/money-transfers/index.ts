/** The money transfers module's public surface. */
export * from './money-transfer.js';
export { moneyTransferRepository, transferMoney } from './commands.js';
export { moneyTransfers, findMoneyTransferView, type MoneyTransferView } from './projection.js';
export { moneyTransferSaga } from './saga.js';
