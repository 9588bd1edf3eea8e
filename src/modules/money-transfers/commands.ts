import type { CommandContext } from '../../eventstore/command.js';
import { replay } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { createRepository } from '../../eventstore/repository.js';
import type { EventReader, EventStore } from '../../eventstore/store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { accountDecider } from '../accounts/account.js';
import { aggregateType, moneyTransferDecider, type AccountSummary } from './money-transfer.js';
import { moneyTransfers, projectMoneyTransfers } from './projection.js';

export type MoneyTransferStore = EventStore<PostgresSession>;

export const moneyTransferRepository = (store: MoneyTransferStore) =>
  createRepository(store, {
    aggregateType,
    decider: moneyTransferDecider,
    projections: [projectMoneyTransfers],
    respond: respondWithView(moneyTransfers, 'money transfer'),
  });

const replayAccount = replay(accountDecider);

/** An account as the transfer sees it when requested; undefined when it does not exist. */
export const accountSummary = async (reader: EventReader, id: string): Promise<AccountSummary | undefined> => {
  const { state } = await replayAccount(reader, id);
  return state.status === 'NONE' ? undefined : { status: state.status, currency: state.currency };
};

/**
 * Records the request (MoneyTransferCreated); the saga moves the money. The accounts are read
 * before the transfer's transaction: one that closes in between fails the transfer later
 * (ACCOUNT_CLOSED) instead of failing this request.
 */
export const transferMoney = async (
  store: MoneyTransferStore,
  input: { id: string; fromAccountId: string; toAccountId: string; amount: string },
  context: CommandContext,
) => {
  const [from, to] = await Promise.all([accountSummary(store, input.fromAccountId), accountSummary(store, input.toAccountId)]);
  const { fromAccountId, toAccountId, amount } = input;
  return moneyTransferRepository(store).add(
    input.id,
    { type: 'CreateMoneyTransfer', fromAccountId, toAccountId, amount, from, to },
    context,
  );
};
