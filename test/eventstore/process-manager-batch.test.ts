import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { executeCommand } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay } from '../../src/eventstore/loaders.js';
import { listParked } from '../../src/eventstore/parked-triggers.js';
import { PostgresEventStore, type PostgresSession } from '../../src/eventstore/postgres-store.js';
import { ProcessManagerRunner, type ProcessManager, type Trigger } from '../../src/eventstore/process-manager.js';
import type { Event, RecordedEvent } from '../../src/eventstore/types.js';
import { testLogger, useApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

// Runners of their own, started after their triggers have committed, so that one step sees them
// all; trigger types of their own, so parallel files cannot feed them.
const app = await useApp({ relayPollMs: 100, processManagers: [] });
const { relay, db } = app.services;
const store = new PostgresEventStore(db);

const counter = { initialState: { n: 0 }, evolve: (state: { n: number }) => ({ n: state.n + 1 }) };

/** One event on `stream`, naming the trigger: not idempotent, so a trigger handled twice shows. */
const record = (session: PostgresSession, trigger: Trigger, stream: string) =>
  executeCommand(
    session,
    {
      aggregateType: 'Answer',
      aggregateId: stream,
      load: replay(counter),
      decide: () => [{ type: 'Answered', data: { trigger: trigger.event.id } } as Event],
      evolve: counter.evolve,
      respond: async () => null,
    },
    trigger.command('answer'),
  );

const kind = () => `Batched_${newId('t').slice(2, 12)}`;

/** `count` triggers of `type`, each in a transaction of its own, committed in this order. */
const triggers = async (type: string, count: number, data: (index: number) => Record<string, unknown> = () => ({})) => {
  const events: RecordedEvent[] = [];
  for (let index = 0; index < count; index++) {
    events.push(
      await store.transaction(async (session) => {
        const { events: appended } = await session.appendToStream(
          { aggregateId: newId('bt'), aggregateType: 'Batched' },
          [{ type, data: { index, ...data(index) } }],
          { expectedVersion: 0, metadata: { correlationId: 'c', causationId: 'c' }, occurredAt: new Date() },
        );
        return appended[0]!;
      }),
    );
  }
  return events;
};

const run = async (manager: ProcessManager, options: { batchSize?: number; maxAttempts?: number } = {}) => {
  const runner = new ProcessManagerRunner({
    store,
    relay,
    managers: [manager],
    clock: () => new Date(),
    logger: testLogger,
    pollMs: 50,
    backoffMs: 10,
    ...options,
  });
  await runner.start();
  afterAll(() => runner.stop());
  return runner;
};

const transactionsOf = (events: readonly RecordedEvent[]) => new Set(events.map((event) => event.logPosition.transactionId)).size;

describe('process managers in batches', () => {
  it('handle the triggers that wait when a step begins in one transaction, each once', async () => {
    const type = kind();
    const stream = `answers_${newId('s')}`;
    const pending = await triggers(type, 20);
    const manager: ProcessManager = {
      name: `batcher-${type}`,
      handles: [type],
      processOf: (event) => event.aggregateId,
      async handle(session, trigger) {
        await record(session, trigger, `${stream}_${trigger.event.aggregateId}`);
      },
    };
    const runner = await run(manager);
    await runner.drain();
    const answers = (await Promise.all(pending.map((event) => store.readStream(`${stream}_${event.aggregateId}`)))).flat();
    expect(answers.map((event) => event.data.trigger)).toEqual(pending.map((event) => event.id));
    expect(transactionsOf(answers)).toBe(1);
  });

  it('run commands of different triggers on one stream one after another, in one transaction', async () => {
    const type = kind();
    const stream = `shared_${newId('s')}`;
    const pending = await triggers(type, 10);
    const manager: ProcessManager = {
      name: `sharer-${type}`,
      handles: [type],
      // Every trigger a process of its own: they are handled at once, all on one stream.
      processOf: (event) => event.aggregateId,
      async handle(session, trigger) {
        await record(session, trigger, stream);
      },
    };
    const runner = await run(manager);
    await runner.drain();
    const answers = await store.readStream(stream);
    expect(answers.map((event) => event.version)).toEqual(pending.map((_, index) => index + 1));
    expect(new Set(answers.map((event) => event.data.trigger))).toEqual(new Set(pending.map((event) => event.id)));
    // Had two commands loaded the same version, the batch would have failed and run one at a time.
    expect(transactionsOf(answers)).toBe(1);
  });

  it('handle the triggers of one process in log order, however long each takes', async () => {
    const type = kind();
    const stream = `ordered_${newId('s')}`;
    const pending = await triggers(type, 12);
    const manager: ProcessManager = {
      name: `orderer-${type}`,
      handles: [type],
      processOf: () => 'one process',
      async handle(session, trigger) {
        // Earlier triggers take longer: handled at once, later ones would overtake them.
        await new Promise((resolve) => setTimeout(resolve, (12 - Number(trigger.event.data.index)) * 5));
        await record(session, trigger, stream);
      },
    };
    const runner = await run(manager);
    await runner.drain();
    const answers = await store.readStream(stream);
    expect(answers.map((event) => event.data.trigger)).toEqual(pending.map((event) => event.id));
  });

  it('take a failing batch apart: the others are handled once, the failing trigger is retried and parked alone', async () => {
    const type = kind();
    const stream = `apart_${newId('s')}`;
    const pending = await triggers(type, 10, (index) => ({ fails: index === 4 }));
    const manager: ProcessManager = {
      name: `breaker-${type}`,
      handles: [type],
      processOf: (event) => event.aggregateId,
      async handle(session, trigger) {
        // A real database error, which aborts the whole transaction.
        if (trigger.event.data.fails) await session.tx.execute(sql`select 1 / 0`);
        await record(session, trigger, `${stream}_${trigger.event.aggregateId}`);
      },
    };
    const answered = () => Promise.all(pending.map(async (event) => (await store.readStream(`${stream}_${event.aggregateId}`)).length));
    const runner = await run(manager, { maxAttempts: 2 });
    await waitFor(
      async () => (await listParked(db, manager.name)).length === 1 && (await answered()).filter((n) => n > 0).length === 9,
      'the failing trigger to be parked and the others handled',
      15_000,
    );
    await runner.drain();
    const parked = await listParked(db, manager.name);
    expect(parked.map((row) => row.eventId)).toEqual([pending[4]!.id]);
    expect(parked[0]).toMatchObject({ failed: true, attempts: 2 });
    expect(await answered()).toEqual(pending.map((_, index) => (index === 4 ? 0 : 1)));
  });
});
