import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/eventstore/command.js';
import { defineAggregate } from '../../src/eventstore/aggregate.js';
import { AlreadyExistsError, ConcurrencyConflictError, IllegalStateError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import { InMemoryEventStore } from '../../src/eventstore/memory-store.js';
import { counter } from './counter.js';

const context = (): CommandContext => ({ commandName: 'add', commandId: newId('cmd'), now: new Date() });

const counters = defineAggregate({
  type: 'Counter',
  decider: counter,
  snapshotEvery: 2,
  respond: async (_, outcome) => outcome.state.total,
});

describe('an aggregate bound to the store', () => {
  it('starts a new stream, and answers ALREADY_EXISTS the second time; expected version 0 is a version conflict', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await expect(counters.handle(store, id, { type: 'Add', by: 2 }, context(), { newStream: true })).resolves.toMatchObject({
      version: 1,
      result: 2,
    });
    await expect(counters.handle(store, id, { type: 'Add', by: 1 }, context(), { newStream: true })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    await expect(counters.handle(store, id, { type: 'Add', by: 1 }, context(), { expectedVersion: 0 })).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
  });

  it('acts at an expected version, snapshots as its policy says, and rethrows the decider’s errors', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await counters.handle(store, id, { type: 'Add', by: 1 }, context());
    await expect(counters.handle(store, id, { type: 'Add', by: 1 }, context(), { expectedVersion: 2 })).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
    await expect(counters.handle(store, id, { type: 'Add', by: 1 }, context(), { expectedVersion: 1 })).resolves.toMatchObject({ result: 2 });
    await expect(counters.handle(store, id, { type: 'Add', by: -1 }, context())).rejects.toBeInstanceOf(IllegalStateError);
    expect(await store.loadSnapshot(id)).toEqual({ aggregateId: id, version: 2, state: { total: 2 } });
  });

  it('runs inside a transaction the caller owns, committing or rolling back with it', async () => {
    const store = new InMemoryEventStore();
    const a = newId('ctr');
    const b = newId('ctr');
    await expect(
      store.transaction(async (session) => {
        await counters.handleIn(session, a, { type: 'Add', by: 5 }, context());
        await counters.handleIn(session, b, { type: 'Add', by: 5000 }, context());
      }),
    ).rejects.toBeInstanceOf(IllegalStateError);
    expect(await store.streamVersion(a)).toBeUndefined();
    await store.transaction(async (session) => {
      await counters.handleIn(session, a, { type: 'Add', by: 5 }, context());
      await counters.handleIn(session, b, { type: 'Add', by: 7 }, context());
    });
    expect((await store.readStream(a)).map((event) => event.data)).toEqual([{ by: 5 }]);
    expect((await store.readStream(b)).map((event) => event.data)).toEqual([{ by: 7 }]);
  });
});
