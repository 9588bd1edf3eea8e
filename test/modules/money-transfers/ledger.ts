import { Decimal } from 'decimal.js';
import { inArray, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { accountDecider } from '../../../src/modules/accounts/account.js';
import { accounts } from '../../../src/modules/accounts/projection.js';
import { moneyTransfers } from '../../../src/modules/money-transfers/projection.js';
import { replay } from '../../../src/eventstore/loaders.js';
import type { EventReader } from '../../../src/eventstore/store.js';
import { waitFor } from '../../helpers/wait.js';
import type { GraphQLServer } from '../../../src/server.js';
import { accountClient } from '../accounts/operations.js';

/** A small deterministic generator, so a failing run can be reproduced from its seed. */
export const seeded = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
};

/** Opens `count` accounts of `balance` each and requests `transfers` random transfers among them, all at once. */
export const randomTransfers = async (
  yoga: GraphQLServer,
  options: { accounts: number; balance: string; transfers: number; maxCents: number; seed: number },
) => {
  const client = accountClient(yoga);
  const ids = await Promise.all(Array.from({ length: options.accounts }, () => client.opened(options.balance)));
  const random = seeded(options.seed);
  const requests = Array.from({ length: options.transfers }, () => {
    const from = Math.floor(random() * ids.length);
    const to = (from + 1 + Math.floor(random() * (ids.length - 1))) % ids.length;
    const cents = 1 + Math.floor(random() * options.maxCents);
    return { from: ids[from]!, to: ids[to]!, amount: new Decimal(cents).dividedBy(100).toFixed() };
  });
  const started = performance.now();
  const transfers = await Promise.all(requests.map((r) => client.transferred(r.from, r.to, r.amount)));
  return { accounts: ids, transfers, started };
};

/** Resolves when every transfer is COMPLETED or FAILED; returns the time it took since `started`. */
export const allSettled = async (db: Database, transfers: readonly string[], started: number, timeoutMs: number) => {
  await waitFor(
    async () => {
      const [row] = await db
        .select({ open: sql<number>`count(*) filter (where ${moneyTransfers.status} not in ('COMPLETED', 'FAILED'))::int`, all: sql<number>`count(*)::int` })
        .from(moneyTransfers)
        .where(inArray(moneyTransfers.id, [...transfers]));
      return row!.all === transfers.length && row!.open === 0;
    },
    `${transfers.length} transfers to complete or fail`,
    timeoutMs,
  );
  return performance.now() - started;
};

const countByTransfer = async (db: Database, type: string, transfers: readonly string[]) => {
  const rows = await db.execute<{ transfer_id: string; n: number }>(sql`
    select data->>'transferId' as transfer_id, count(*)::int as n from es.events
     where type = ${type} and data->>'transferId' in ${sql`(${sql.join(transfers.map((id) => sql`${id}`), sql`, `)})`}
     group by 1`);
  return new Map(rows.map((row) => [row.transfer_id, row.n]));
};

/**
 * The ledger's invariants: money is conserved, no balance is negative, each COMPLETED transfer
 * was debited once and credited once, each FAILED one was credited never and debited never, and
 * every balance is what its own stream and the transfers say.
 */
export const expectLedgerHolds = async (
  db: Database,
  reader: EventReader,
  ids: { accounts: readonly string[]; transfers: readonly string[] },
  initialTotal: string,
) => {
  const rows = await db.select().from(accounts).where(inArray(accounts.id, [...ids.accounts]));
  expect(rows).toHaveLength(ids.accounts.length);
  const total = rows.reduce((sum, row) => sum.plus(row.balance), new Decimal(0));
  expect(total.toFixed(), 'the sum of balances').toBe(new Decimal(initialTotal).toFixed());
  for (const row of rows) expect(new Decimal(row.balance).isNegative(), `${row.id} is negative`).toBe(false);

  const transfers = await db.select().from(moneyTransfers).where(inArray(moneyTransfers.id, [...ids.transfers]));
  const debits = await countByTransfer(db, 'AccountDebitedForTransfer', ids.transfers);
  const credits = await countByTransfer(db, 'AccountCreditedForTransfer', ids.transfers);
  const declines = await countByTransfer(db, 'AccountTransferDebitDeclined', ids.transfers);
  const wrong: string[] = [];
  for (const transfer of transfers) {
    const counts = [debits.get(transfer.id) ?? 0, credits.get(transfer.id) ?? 0, declines.get(transfer.id) ?? 0];
    const expected = transfer.status === 'COMPLETED' ? [1, 1, 0] : [0, 0, 1];
    if (counts.join() !== expected.join()) wrong.push(`${transfer.id} ${transfer.status} debits/credits/declines ${counts.join('/')}`);
  }
  expect(wrong).toEqual([]);

  const replayAccount = replay(accountDecider);
  for (const row of rows) {
    const moved = transfers
      .filter((t) => t.status === 'COMPLETED')
      .reduce(
        (sum, t) => (t.toAccountId === row.id ? sum.plus(t.amount) : t.fromAccountId === row.id ? sum.minus(t.amount) : sum),
        new Decimal(0),
      );
    const { state } = await replayAccount(reader, row.id);
    expect(state.status !== 'NONE' && state.balance).toBe(new Decimal(row.balance).toFixed());
    const opening = (await reader.readStream(row.id, { limit: 1 }))[0]!.data.initialBalance as string;
    expect(new Decimal(opening).plus(moved).toFixed(), `${row.id} balance from its transfers`).toBe(new Decimal(row.balance).toFixed());
  }
  return {
    completed: transfers.filter((t) => t.status === 'COMPLETED').length,
    failed: transfers.filter((t) => t.status === 'FAILED').length,
  };
};
