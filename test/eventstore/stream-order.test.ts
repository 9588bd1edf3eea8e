import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { executeCommand, type CommandSpec } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay } from '../../src/eventstore/loaders.js';
import type { PostgresSession } from '../../src/eventstore/postgres-store.js';
import type { ProcessManager } from '../../src/eventstore/process-manager.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { accountAggregate } from '../../src/modules/accounts/aggregate.js';
import { useApp } from '../helpers/app.js';
import { gate, holdTransaction, untilWaiting } from '../helpers/locks.js';
import { waitFor } from '../helpers/wait.js';
import { counter, type Counter, type CounterEvent } from './counter.js';

/**
 * The log is ordered by (writing transaction id, position), and a transaction gets its id when it
 * first writes or locks a row. Each test below makes a transaction obtain its id first and append
 * second, after a newer transaction appended to the same stream, and checks that the stream's
 * versions still appear in order in the global log.
 */
const triggerType = `OrderProbe_${newId('t').slice(2, 12)}`;
const probe = { streams: [] as string[], entered: gate(), release: gate(), runs: 0 };

/** A process manager whose step appends to each of `probe.streams`, waiting at a gate after the first. */
const prober: ProcessManager = {
  name: `prober-${triggerType}`,
  handles: [triggerType],
  processOf: (event) => event.aggregateId,
  async handle(session, trigger) {
    probe.runs += 1;
    for (const [index, stream] of probe.streams.entries()) {
      if (index === 1 || probe.streams.length === 1) {
        probe.entered.open();
        await probe.release.opened;
      }
      await executeCommand(session, add(stream), trigger.command('add'));
    }
  },
};

const app = await useApp({ relayPollMs: 50, processManagers: [prober] });
const { store, db } = app.services;

const add = (aggregateId: string): CommandSpec<Counter, CounterEvent, PostgresSession, null> => ({
  aggregateType: 'Counter',
  aggregateId,
  load: replay(counter),
  decide: (state) => counter.decide({ type: 'Add', by: 1 }, state),
  evolve: counter.evolve,
  respond: async () => null,
});
const context = () => ({ commandName: 'add', commandId: newId('cmd'), now: new Date() });

/** One stream's events in the global log's order (the `events` read the relay and queries use). */
const versionsInLog = async (aggregateId: string): Promise<number[]> => {
  await app.services.relay.settle();
  const events = await store.readLog({ aggregateId, limit: 1000 });
  return events.map((event) => event.version);
};

const inOrder = (count: number) => Array.from({ length: count }, (_, n) => n + 1);

describe('one stream’s events in the global order', () => {
  it('holds when a transaction that took its id first waits in its load behind a newer writer', async () => {
    const accountId = newId('acc');
    await accountAggregate.handle(store, accountId, { type: 'OpenAccount', owner: 'order', currency: 'EUR', initialBalance: '0' }, context());
    const key = `order-${newId('k')}`;
    // X holds the idempotency key, so the writer W below stops just before it commits.
    const x = await holdTransaction();
    await x.run((tx) => tx`insert into es.idempotency_keys (key, command, fingerprint, aggregate_id, version) values (${key}, 'x', '', 'x', 0)`);

    // T takes its transaction id first (a write to another stream), then waits at a gate.
    const other = newId('ctr');
    const tookId = gate();
    const go = gate();
    let attempts = 0;
    const t = store.transaction(async (session) => {
      attempts += 1;
      await executeCommand(session, add(other), context());
      tookId.open();
      await go.opened;
      return accountAggregate.handleIn(session, accountId, { type: 'CreditAccount', amount: '1' }, context());
    });
    await tookId.opened;

    // W (newer id) appends version 2 of the account and waits on X's key.
    const w = accountAggregate.handle(store, accountId, { type: 'CreditAccount', amount: '1' }, { ...context(), idempotencyKey: key });
    await untilWaiting(db, x.pid, 1, 'W to wait on the held key');
    go.open();
    await untilWaiting(db, x.pid, 2, 'T to wait behind W in its load');
    await x.rollback();
    await w;
    const credited = await t;

    expect(credited.version).toBe(3);
    expect(await versionsInLog(accountId)).toEqual(inOrder(3));
    // The older transaction was refused once and ran again in a newer one; its first write went with it.
    expect(attempts).toBe(2);
    expect(await versionsInLog(other)).toEqual([1]);
  });

  it('holds when a transaction that took its id first waits at the expected-version check', async () => {
    const stream = newId('ctr');
    const other = newId('ctr');
    await store.transaction((session) => executeCommand(session, add(stream), context()));
    const append = (session: PostgresSession, aggregateId: string) =>
      session.appendToStream({ aggregateId, aggregateType: 'Counter' }, [{ type: 'Added', data: { by: 1 } }], {
        expectedVersion: undefined,
        metadata: { correlationId: 'c', causationId: 'c' },
        occurredAt: new Date(),
      });

    const tookId = gate();
    const go = gate();
    let attempts = 0;
    const t = store.transaction(async (session) => {
      attempts += 1;
      await append(session, other);
      tookId.open();
      await go.opened;
      return append(session, stream);
    });
    await tookId.opened;
    // W (newer id) appends version 2 and holds its transaction open.
    const wPid = gate();
    const wCommit = gate();
    let pid = 0;
    const w = store.transaction(async (session) => {
      await append(session, stream);
      const [row] = await session.tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      pid = row!.pid;
      wPid.open();
      await wCommit.opened;
    });
    await wPid.opened;
    go.open();
    await untilWaiting(db, pid, 1, 'T to wait on the stream row W holds');
    wCommit.open();
    await w;
    const appended = await t;

    expect(appended.version).toBe(3);
    expect(await versionsInLog(stream)).toEqual(inOrder(3));
    expect(attempts).toBe(2);
    expect(await versionsInLog(other)).toEqual([1]);
  });

  it('holds for a process-manager step that waits before it appends, with no retry', async () => {
    const stream = newId('ctr');
    Object.assign(probe, { streams: [stream], entered: gate(), release: gate(), runs: 0 });
    await store.transaction((session) => executeCommand(session, add(stream), context()));
    await trigger();
    await probe.entered.opened;
    // A client's command appends version 2 while the step waits.
    await store.transaction((session) => executeCommand(session, add(stream), context()));
    probe.release.open();
    await waitFor(async () => (await versionsInLog(stream)).length === 3, 'the step to append');

    expect(await versionsInLog(stream)).toEqual(inOrder(3));
    // The step took no transaction id before its stream's lock: it never had to run again.
    expect(probe.runs).toBe(1);
  });

  it('holds for a process-manager step that writes two streams, the second one written meanwhile', async () => {
    const first = newId('ctr');
    const second = newId('ctr');
    Object.assign(probe, { streams: [first, second], entered: gate(), release: gate(), runs: 0 });
    await trigger();
    await probe.entered.opened;
    // The step has appended to `first` (so it has an id); a newer transaction appends to `second`.
    await store.transaction((session) => executeCommand(session, add(second), context()));
    probe.release.open();
    await waitFor(async () => (await versionsInLog(second)).length === 2, 'the step to append');

    expect(await versionsInLog(second)).toEqual(inOrder(2));
    expect(await versionsInLog(first)).toEqual([1]);
    // Refused once, then run again with both streams locked before it had an id.
    expect(probe.runs).toBe(2);
  });
});

const trigger = (): Promise<RecordedEvent> =>
  store.transaction(async (session) => {
    const { events } = await session.appendToStream(
      { aggregateId: newId('probe'), aggregateType: 'Probe' },
      [{ type: triggerType, data: {} }],
      { expectedVersion: 0, metadata: { correlationId: 'c', causationId: 'c' }, occurredAt: new Date() },
    );
    return events[0]!;
  });
