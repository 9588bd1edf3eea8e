import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../../src/eventstore/postgres-store.js';
import { accountAggregate, accountSnapshotEvery } from '../../../src/modules/accounts/aggregate.js';
import { accountDecider } from '../../../src/modules/accounts/account.js';
import { replay } from '../../../src/eventstore/loaders.js';
import { findAccountView } from '../../../src/modules/accounts/projection.js';
import { useConnection } from '../../helpers/app.js';

const { db } = useConnection();
const store = new PostgresEventStore(db);
const context = (commandName: string) => ({ commandName, commandId: newId('cmd'), now: new Date() });

const snapshotsOf = (id: string) =>
  db.execute<{ version: number; data: { transfersDebited?: string[]; transfersCredited?: string[]; balance?: string } }>(
    sql`select version, data from es.snapshots where aggregate_id = ${id} order by version`,
  );

describe('account snapshots', () => {
  it('are written every `accountSnapshotEvery` events and carry the settled transfers, so a redelivered step still appends nothing', async () => {
    const id = newId('acc');
    const debited = newId('mt');
    const credited = newId('mt');
    await accountAggregate.handle(store, id, { type: 'OpenAccount', owner: 'ada', currency: 'EUR', initialBalance: '100.00' }, context('openAccount'), { newStream: true });
    await accountAggregate.handle(store, id, { type: 'DebitForTransfer', transferId: debited, amount: '10.00' }, context('debitForTransfer'));
    await accountAggregate.handle(store, id, { type: 'CreditForTransfer', transferId: credited, amount: '1.00' }, context('creditForTransfer'));
    for (let version = 4; version <= accountSnapshotEvery + 1; version++) {
      await accountAggregate.handle(store, id, { type: 'CreditAccount', amount: '0.01' }, context('creditAccount'));
    }
    const snapshots = await snapshotsOf(id);
    expect(snapshots.map((row) => row.version)).toEqual([accountSnapshotEvery]);
    expect(snapshots[0]!.data).toMatchObject({ transfersDebited: [debited], transfersCredited: [credited] });

    // Loaded from the snapshot (and the event after it): the same steps again decide nothing.
    const again = await accountAggregate.handle(store, id, { type: 'DebitForTransfer', transferId: debited, amount: '10.00' }, context('debitForTransfer'));
    const credit = await accountAggregate.handle(store, id, { type: 'CreditForTransfer', transferId: credited, amount: '1.00' }, context('creditForTransfer'));
    expect([again.events, credit.events]).toEqual([[], []]);
    expect(credit.version).toBe(accountSnapshotEvery + 1);

    // The state from the snapshot is the state a full replay gives.
    const view = await findAccountView(db, id);
    const replayed = await replay(accountDecider)(store, id);
    expect(replayed.state.status === 'OPEN' && replayed.state.balance).toBe(view!.balance.replace(/\.?0+$/, ''));
    const next = await accountAggregate.handle(store, id, { type: 'DebitAccount', amount: '1.00' }, context('debitAccount'));
    expect(next.result.account.balance).toBe((await findAccountView(db, id))!.balance);
  });
});
