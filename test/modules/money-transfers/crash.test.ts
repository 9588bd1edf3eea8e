import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../../../src/app.js';
import { connect } from '../../../src/db/client.js';
import type { Logger } from '../../../src/logger.js';
import { createGraphQLServer } from '../../../src/server.js';
import { moneyTransferSaga } from '../../../src/modules/money-transfers/saga.js';
import { useIsolatedDatabase } from '../../helpers/app.js';
import { allSettled, expectLedgerHolds, randomTransfers } from './ledger.js';

// A database of its own: this file kills the process managers' connections to it.
// It needs postgres.js to survive a killed connection: 3.4.9 unpatched throws an uncaught
// TypeError from `nextWrite` (porsager/postgres#1154, #1208) and can leave a pool slot unable to
// write again, which stalls the saga. The fix: null `chunk` and `nextWriteTimer` in `closed()` and
// `terminate()`, and make `nextWrite` settle (not throw) when the socket is gone.
const databaseUrl = await useIsolatedDatabase();

/** Counts the runner's failed steps, so the test knows the crashes really hit the saga. */
let failedSteps = 0;
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => {
    if (message.startsWith('process manager step failed')) failedSteps++;
  },
  error: () => undefined,
};
const app = await startApp({ databaseUrl, logger, relayPollMs: 20, processManagers: [moneyTransferSaga] });
afterAll(() => app.close());
const yoga = createGraphQLServer(app.services);
const admin = connect(databaseUrl, { max: 1, applicationName: 'cairn-test-killer' });
afterAll(() => admin.close());

/** Kills stop after this many rounds, so the saga's progress is bounded even on a slow machine. */
const maxRounds = 40;

/** Terminates every process-manager connection to this database; returns how many it ended. */
const killProcessManagerConnections = async (): Promise<number> => {
  const rows = await admin.db.execute<{ killed: boolean }>(sql`
    select pg_terminate_backend(pid) as killed from pg_stat_activity
     where application_name = 'cairn-process-managers' and datname = current_database()`);
  return rows.filter((row) => row.killed).length;
};

describe('the saga under crashes', () => {
  it('resumes after its connections are killed mid-way and never moves money twice', async () => {
    const run = await randomTransfers(yoga, { accounts: 5, balance: '300', transfers: 60, maxCents: 20_000, seed: 1234 });
    let settled = false;
    let kills = 0;
    let rounds = 0;
    const killer = (async () => {
      while (!settled && rounds < maxRounds) {
        kills += await killProcessManagerConnections().catch(() => 0);
        rounds++;
        // Pace the kills so the saga makes progress in between (a step takes ~20 ms).
        await new Promise((resolve) => setTimeout(resolve, 80 + Math.random() * 120));
      }
    })();
    try {
      await allSettled(app.services.db, run.transfers, run.started, 25_000);
    } finally {
      settled = true;
      await killer;
    }
    expect(kills, `connections killed in ${rounds} rounds`).toBeGreaterThan(0);
    expect(failedSteps, 'saga steps that failed because of a kill').toBeGreaterThan(0);
    const outcome = await expectLedgerHolds(app.services.db, app.services.store, run, '1500');
    expect(outcome.completed).toBeGreaterThan(0);
    expect(outcome.completed + outcome.failed).toBe(60);
  });
});
