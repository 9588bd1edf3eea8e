import { eq, type SQL } from 'drizzle-orm';
import { FactCache, type Owners } from '../../auth/access.js';
import { findRow } from '../../eventstore/view-projection.js';
import { accounts } from './projection.js';

/** An account's owner never changes: known once, kept. */
const owners = new FactCache<string>();

/** An account is its owner's (README, "Security"); read on the primary, where a new account is. */
export const accountOwners: Owners = async (id, services) => {
  const owner = await owners.get(id, async () => (await findRow(services.read.primary.db, accounts, id))?.owner);
  return owner === undefined ? [] : [owner];
};

/** The accounts `sub` owns. */
export const ownedAccounts = (sub: string): SQL => eq(accounts.owner, sub);
