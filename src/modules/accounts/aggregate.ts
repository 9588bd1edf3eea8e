import type { CommandOutcome } from '../../eventstore/command.js';
import { defineAggregate } from '../../eventstore/aggregate.js';
import { holdingView, snapshotAndTail } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { accountDecider, accountSnapshot, aggregateType, type Account } from './account.js';
import { accounts, projectAccounts, type AccountView } from './projection.js';

/** What a command answers (and what an idempotent replay answers again). */
export type AccountResult = {
  readonly account: AccountView;
  /** Set when the command recorded AccountDebitDeclined: the caller gets INSUFFICIENT_FUNDS. */
  readonly declined: { readonly amount: string; readonly balance: string } | null;
};

const accountView = respondWithView(accounts, 'account');

const respond = async (session: PostgresSession, outcome: CommandOutcome<Account>): Promise<AccountResult> => {
  const account = await accountView(session, outcome);
  const declined = outcome.events.find((event) => event.type === 'AccountDebitDeclined');
  return {
    account,
    declined: declined ? { amount: String(declined.data.amount), balance: String(declined.data.balance) } : null,
  };
};

/** Events between two snapshots of an account. */
export const accountSnapshotEvery = 20;

/**
 * Accounts load from their latest snapshot plus the events after it (the state remembers the
 * transfers it settled, so the snapshot carries them, see `accountSnapshot`); a long-lived
 * account replays at most `accountSnapshotEvery` events. The command holds the account's row
 * from the start: the projection writes the row it read.
 */
export const accountAggregate = defineAggregate({
  type: aggregateType,
  decider: accountDecider,
  load: holdingView(accounts, snapshotAndTail(accountDecider, accountSnapshot)),
  projections: [projectAccounts],
  snapshotEvery: accountSnapshotEvery,
  snapshotOf: accountSnapshot.encode,
  respond,
});
