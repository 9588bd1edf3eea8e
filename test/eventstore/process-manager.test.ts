import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { executeCommand } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay } from '../../src/eventstore/loaders.js';
import type { ProcessManager } from '../../src/eventstore/process-manager.js';
import type { PostgresSession } from '../../src/eventstore/postgres-store.js';
import type { Event, RecordedEvent } from '../../src/eventstore/types.js';
import { databaseUrl, testLogger, useApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

// Each process manager here reacts to an event type of its own, so parallel files cannot feed it.
const pingType = `Pinged_${newId('t').slice(2, 12)}`;
const flakyType = `Flaky_${newId('t').slice(2, 12)}`;

// Not idempotent on purpose: a trigger handled twice would leave two pongs.
const pong = { initialState: { pongs: 0 }, evolve: (state: { pongs: number }) => ({ pongs: state.pongs + 1 }) };

/** Answers every ping with one event on the stream `pong_<ping aggregate>`, as a command would. */
const answerWith = (name: string, type: string, extra: () => void = () => undefined): ProcessManager => ({
  name,
  handles: [type],
  processOf: (event) => event.aggregateId,
  async handle(session, trigger) {
    extra();
    await executeCommand(
      session,
      {
        aggregateType: 'Pong',
        aggregateId: `pong_${trigger.event.aggregateId}`,
        load: replay(pong),
        decide: () => [{ type: 'Ponged', data: { ping: trigger.event.id } } as Event],
        evolve: pong.evolve,
        respond: async () => null,
      },
      trigger.command('pong'),
    );
  },
});

let flakyCalls = 0;
const pinger = answerWith(`pinger-${pingType}`, pingType);
const flaky = answerWith(`flaky-${flakyType}`, flakyType, () => {
  flakyCalls++;
  if (flakyCalls <= 2) throw new Error('a passing failure');
});

const app = await useApp({ relayPollMs: 100, processManagers: [pinger, flaky] });
const { store } = app.services;

const ping = (type: string) =>
  store.transaction(async (session: PostgresSession) => {
    const aggregateId = newId('ping');
    const { events } = await session.appendToStream(
      { aggregateId, aggregateType: 'Ping' },
      [{ type, data: {} }],
      { expectedVersion: 0, metadata: { correlationId: `cor_${aggregateId}`, causationId: 'test' }, occurredAt: new Date() },
    );
    return events[0]!;
  });

const pongsFor = async (pingAggregate: string) => store.readStream(`pong_${pingAggregate}`);

describe('process managers', () => {
  it('react to each trigger once, with causation pointing at the trigger', async () => {
    const pings = await Promise.all(Array.from({ length: 20 }, () => ping(pingType)));
    await waitFor(async () => {
      const counts = await Promise.all(pings.map(async (p) => (await pongsFor(p.aggregateId)).length));
      return counts.every((count) => count === 1);
    }, 'every ping to be answered');
    const [first] = pings;
    const [answer] = await pongsFor(first!.aggregateId);
    expect(answer!.metadata).toMatchObject({
      causationId: first!.id,
      correlationId: `cor_${first!.aggregateId}`,
      actor: `process:${pinger.name}`,
    });
  });

  it('run once cluster-wide: a second instance never handles a trigger twice', async () => {
    const second = await startApp({
      databaseUrl: databaseUrl(),
      logger: testLogger,
      relayPollMs: 100,
      processManagers: [pinger],
    });
    try {
      const pings = await Promise.all(Array.from({ length: 30 }, () => ping(pingType)));
      await waitFor(async () => {
        const counts = await Promise.all(pings.map(async (p) => (await pongsFor(p.aggregateId)).length));
        return counts.every((count) => count === 1);
      }, 'every ping to be answered');
      // The checkpoint moved past each ping exactly once: no stream got a second pong.
      const all = await Promise.all(pings.map((p) => pongsFor(p.aggregateId)));
      expect(all.map((events) => events.length)).toEqual(pings.map(() => 1));
    } finally {
      await second.close();
    }
  });

  it('retry a failing step and never skip its trigger', async () => {
    const trigger = await ping(flakyType);
    await waitFor(async () => (await pongsFor(trigger.aggregateId)).length === 1, 'the flaky answer', 15_000);
    expect(flakyCalls).toBe(3);
  });

  it('never skip a trigger whose transaction began first and committed last', async () => {
    // The older transaction appends a trigger and stays open; a newer trigger and a newer event
    // the manager does not handle commit meanwhile. A manager that read past the fence, or skipped
    // ahead past it, would move its checkpoint beyond the older trigger and never see it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let appended!: (event: RecordedEvent) => void;
    const older = new Promise<RecordedEvent>((resolve) => (appended = resolve));
    const slow = store.transaction(async (session: PostgresSession) => {
      const { events } = await session.appendToStream(
        { aggregateId: newId('ping'), aggregateType: 'Ping' },
        [{ type: pingType, data: {} }],
        { expectedVersion: 0, metadata: { correlationId: 'cor_old', causationId: 'test' }, occurredAt: new Date() },
      );
      appended(events[0]!);
      await held;
    });
    const first = await older;
    const newer = await ping(pingType);
    await ping(`Unrelated_${newId('t').slice(2, 12)}`);
    await app.services.processManagers.drain();
    expect(await pongsFor(newer.aggregateId)).toEqual([]);
    release();
    await slow;
    await waitFor(
      async () => (await pongsFor(first.aggregateId)).length === 1 && (await pongsFor(newer.aggregateId)).length === 1,
      'both triggers to be answered',
    );
    // Handled in log order: the older trigger in an earlier step than the newer one, or in the same
    // batch (one transaction), never in a later one.
    expect((await pongsFor(first.aggregateId))[0]!.logPosition.transactionId).toBeLessThanOrEqual(
      (await pongsFor(newer.aggregateId))[0]!.logPosition.transactionId,
    );
  });

  it('skip ahead over events they do not handle, so idle polls do not rescan them', async () => {
    const unrelated = await ping(`Unrelated_${newId('t').slice(2, 12)}`);
    const checkpoint = async () => {
      const [row] = await app.services.db.execute<{ transaction_id: string; position: string }>(
        sql`select transaction_id::text, position::text from es.checkpoints where consumer = ${pinger.name}`,
      );
      return { transactionId: BigInt(row!.transaction_id), position: BigInt(row!.position) };
    };
    await waitFor(async () => {
      await app.services.processManagers.drain();
      const at = await checkpoint();
      return (
        at.transactionId > unrelated.logPosition.transactionId ||
        (at.transactionId === unrelated.logPosition.transactionId && at.position >= unrelated.logPosition.position)
      );
    }, 'the checkpoint to pass the unrelated event');
    expect(await pongsFor(unrelated.aggregateId)).toEqual([]);
  });
});
