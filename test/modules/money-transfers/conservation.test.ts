import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { useApp, useIsolatedDatabase } from '../../helpers/app.js';
import { allSettled, expectLedgerHolds, randomTransfers } from './ledger.js';

// A database of its own: the saga here is this file's, and timings are not shared with other files.
const app = await useApp({ databaseUrl: await useIsolatedDatabase(), relayPollMs: 50 });
const { db, store } = app.services;

describe('money conservation under concurrency', () => {
  it('settles 100 concurrent transfers (measured)', async () => {
    const run = await randomTransfers(app.yoga, { accounts: 5, balance: '1000', transfers: 100, maxCents: 60_000, seed: 7 });
    const elapsed = await allSettled(db, run.transfers, run.started, 30_000);
    console.info(`[measure] 100 concurrent transfers, first request to all settled: ${elapsed.toFixed(0)} ms`);
    const outcome = await expectLedgerHolds(db, store, run, '5000');
    expect(outcome.completed + outcome.failed).toBe(100);
  });

  it('conserves money among 5 accounts under 300 concurrent random transfers, none negative, none moved twice', async () => {
    const run = await randomTransfers(app.yoga, { accounts: 5, balance: '500.5', transfers: 300, maxCents: 40_000, seed: 42 });
    const elapsed = await allSettled(db, run.transfers, run.started, 25_000);
    console.info(`[measure] 300 concurrent transfers, first request to all settled: ${elapsed.toFixed(0)} ms`);
    const outcome = await expectLedgerHolds(db, store, run, new Decimal('500.5').times(5).toFixed());
    // Both paths of the saga were taken: the amounts are large enough for some to fail.
    expect(outcome.completed).toBeGreaterThan(0);
    expect(outcome.failed).toBeGreaterThan(0);
    expect(outcome.completed + outcome.failed).toBe(300);
  });
});
