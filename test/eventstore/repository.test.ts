import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/eventstore/command.js';
import { AlreadyExistsError, ConcurrencyConflictError, IllegalStateError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import { InMemoryEventStore } from '../../src/eventstore/memory-store.js';
import { createRepository } from '../../src/eventstore/repository.js';
import { counter } from './counter.js';

const context = (): CommandContext => ({ commandName: 'add', commandId: newId('cmd'), now: new Date() });

const setup = () => {
  const store = new InMemoryEventStore();
  const counters = createRepository(store, {
    aggregateType: 'Counter',
    decider: counter,
    snapshotEvery: 2,
    respond: async (_, outcome) => outcome.state.total,
  });
  return { store, counters };
};

describe('repository', () => {
  it('adds a new aggregate, and refuses to add it twice', async () => {
    const { counters } = setup();
    const id = newId('ctr');
    expect(await counters.contains(id)).toBe(false);
    await expect(counters.add(id, { type: 'Add', by: 2 }, context())).resolves.toMatchObject({ version: 1, result: 2 });
    expect(await counters.contains(id)).toBe(true);
    await expect(counters.add(id, { type: 'Add', by: 1 }, context())).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('loads the current state, or the state at a version, or null', async () => {
    const { counters } = setup();
    const id = newId('ctr');
    await counters.add(id, { type: 'Add', by: 2 }, context());
    await counters.update(id, { type: 'Add', by: 3 }, context());
    await counters.update(id, { type: 'Add', by: 4 }, context());
    expect(await counters.load(id)).toEqual({ state: { total: 9 }, version: 3 });
    expect(await counters.load(id, { version: 2 })).toEqual({ state: { total: 5 }, version: 2 });
    expect(await counters.load(id, { version: 4 })).toBeNull();
    expect(await counters.load(newId('ctr'))).toBeNull();
  });

  it('updates at an expected version, and with any function of the state (updateById)', async () => {
    const { counters, store } = setup();
    const id = newId('ctr');
    await counters.add(id, { type: 'Add', by: 1 }, context());
    await expect(counters.update(id, { type: 'Add', by: 1 }, context(), 0)).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
    const doubled = await counters.updateById(id, (state) => [{ type: 'Added', data: { by: state.total } }], context(), 1);
    expect(doubled.result).toBe(2);
    await expect(counters.update(id, { type: 'Add', by: -1 }, context())).rejects.toBeInstanceOf(IllegalStateError);
    expect(await store.loadSnapshot(id)).toEqual({ aggregateId: id, version: 2, state: { total: 2 } });
  });

  it('runs the same writes inside a transaction the caller owns', async () => {
    const { counters, store } = setup();
    const a = newId('ctr');
    const b = newId('ctr');
    await expect(
      store.transaction(async (session) => {
        await counters.in(session).update(a, { type: 'Add', by: 5 }, context());
        await counters.in(session).update(b, { type: 'Add', by: 5000 }, context());
      }),
    ).rejects.toBeInstanceOf(IllegalStateError);
    expect(await counters.contains(a)).toBe(false);
    await store.transaction(async (session) => {
      await counters.in(session).update(a, { type: 'Add', by: 5 }, context());
      await counters.in(session).updateById(b, () => [{ type: 'Added', data: { by: 7 } }], context());
    });
    expect((await counters.load(a))?.state).toEqual({ total: 5 });
    expect((await counters.load(b))?.state).toEqual({ total: 7 });
  });
});
