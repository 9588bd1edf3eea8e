import { defineAggregate } from '../../eventstore/aggregate.js';
import { replay } from '../../eventstore/loaders.js';
import type { EventReader } from '../../eventstore/store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { accountDecider } from '../accounts/account.js';
import { aggregateType, moneyTransferDecider, type AccountSummary } from './money-transfer.js';
import { moneyTransfers, projectMoneyTransfers } from './projection.js';

export const moneyTransferAggregate = defineAggregate({
  type: aggregateType,
  decider: moneyTransferDecider,
  projections: [projectMoneyTransfers],
  respond: respondWithView(moneyTransfers, 'money transfer'),
});

const replayAccount = replay(accountDecider);

/** An account as a transfer request sees it; undefined when it does not exist. */
export const accountSummary = async (reader: EventReader, id: string): Promise<AccountSummary | undefined> => {
  const { state } = await replayAccount(reader, id);
  return state.status === 'NONE' ? undefined : { status: state.status, currency: state.currency };
};
