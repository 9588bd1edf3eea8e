import type { CommandContext, CommandOutcome } from '../../eventstore/command.js';
import { replay, type Loaded } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { createRepository } from '../../eventstore/repository.js';
import type { EventReader, EventStore } from '../../eventstore/store.js';
import { lockView, respondWithView } from '../../eventstore/view-projection.js';
import { accountDecider, aggregateType, type Account } from './account.js';
import { accounts, projectAccounts, type AccountView } from './projection.js';

export type AccountStore = EventStore<PostgresSession>;

/** What a command answers (and what an idempotent replay answers again). */
export type AccountResult = {
  readonly account: AccountView;
  /** Set when the command recorded AccountDebitDeclined: the caller gets INSUFFICIENT_FUNDS. */
  readonly declined: { readonly amount: string; readonly balance: string } | null;
};

const replayAccount = replay(accountDecider);

const inTransaction = (reader: EventReader): reader is PostgresSession => 'tx' in reader;

/**
 * Replays the stream. Inside a command's transaction it first locks the account's row, so
 * concurrent commands on one account (a client's debit, the transfer saga) queue instead of
 * racing to a version conflict; outside one (`repository.load`) it only reads.
 */
export const loadAccount = async (reader: EventReader, id: string): Promise<Loaded<Account>> => {
  if (inTransaction(reader)) {
    await lockView(reader, accounts, id);
  }
  return replayAccount(reader, id);
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

export const accountRepository = (store: AccountStore) =>
  createRepository(store, {
    aggregateType,
    decider: accountDecider,
    load: loadAccount,
    projections: [projectAccounts],
    respond,
  });

export const openAccount = (
  store: AccountStore,
  input: { id: string; owner: string; currency: string; initialBalance: string },
  context: CommandContext,
) =>
  accountRepository(store).add(
    input.id,
    { type: 'OpenAccount', owner: input.owner, currency: input.currency, initialBalance: input.initialBalance },
    context,
  );

type Change = { id: string; expectedVersion?: number };

export const creditAccount = (store: AccountStore, input: Change & { amount: string }, context: CommandContext) =>
  accountRepository(store).update(input.id, { type: 'CreditAccount', amount: input.amount }, context, input.expectedVersion);

export const debitAccount = (store: AccountStore, input: Change & { amount: string }, context: CommandContext) =>
  accountRepository(store).update(input.id, { type: 'DebitAccount', amount: input.amount }, context, input.expectedVersion);

export const closeAccount = (store: AccountStore, input: Change, context: CommandContext) =>
  accountRepository(store).update(input.id, { type: 'CloseAccount' }, context, input.expectedVersion);
