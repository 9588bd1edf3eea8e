import { sql, type SQL } from 'drizzle-orm';
import { FactCache, type Owners } from '../../auth/access.js';
import { findRow } from '../../eventstore/view-projection.js';
import { accountOwners } from '../accounts/access.js';
import { accounts } from '../accounts/projection.js';
import { moneyTransfers } from './projection.js';

/** A transfer's two accounts never change: known once, kept. */
const parties = new FactCache<readonly [string, string]>();

/** A transfer is its two accounts' owners' (README, "Security"): the sender's and the receiver's. */
export const transferOwners: Owners = async (id, services) => {
  const accountIds = await parties.get(id, async () => {
    const row = await findRow(services.read.primary.db, moneyTransfers, id);
    return row ? ([row.fromAccountId, row.toAccountId] as const) : undefined;
  });
  if (!accountIds) return [];
  return (await Promise.all(accountIds.map((accountId) => accountOwners(accountId, services)))).flat();
};

/** The transfers from or to an account `sub` owns. */
export const ownedTransfers = (sub: string): SQL =>
  sql`(${moneyTransfers.fromAccountId} in (select ${accounts.id} from ${accounts} where ${accounts.owner} = ${sub})
    or ${moneyTransfers.toAccountId} in (select ${accounts.id} from ${accounts} where ${accounts.owner} = ${sub}))`;
