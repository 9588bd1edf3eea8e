import { describe, expect, it } from 'vitest';
import { handleCommand, maxAttempts, type CommandContext } from '../../src/eventstore/command.js';
import { ConcurrencyConflictError, IllegalStateError, ValidationError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay, snapshotAndTail, type Loader } from '../../src/eventstore/loaders.js';
import { InMemoryEventStore } from '../../src/eventstore/memory-store.js';
import { counter, type Counter } from './counter.js';

const context = (overrides: Partial<CommandContext> = {}): CommandContext => ({
  commandName: 'add',
  commandId: newId('cmd'),
  now: new Date('2026-11-24T12:00:00.000Z'),
  ...overrides,
});

const add = (
  store: InMemoryEventStore,
  id: string,
  by: number,
  options: { expectedVersion?: number; load?: Loader<Counter>; snapshotEvery?: number; ctx?: Partial<CommandContext> } = {},
) =>
  handleCommand(
    store,
    {
      aggregateType: 'Counter',
      aggregateId: id,
      ...(options.expectedVersion !== undefined && { expectedVersion: options.expectedVersion }),
      load: options.load ?? replay(counter),
      decide: (state) => counter.decide({ type: 'Add', by }, state),
      evolve: counter.evolve,
      ...(options.snapshotEvery !== undefined && { snapshotEvery: options.snapshotEvery }),
      respond: async (_, outcome) => ({ total: outcome.state.total, version: outcome.version }),
    },
    context({ fingerprint: JSON.stringify({ id, by }), ...options.ctx }),
  );

describe('handleCommand', () => {
  it('loads, decides, appends and answers with the new state', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await add(store, id, 2);
    const result = await add(store, id, 3);
    expect(result).toMatchObject({ aggregateId: id, version: 2, result: { total: 5, version: 2 }, replayed: false });
    expect(result.events.map((e) => e.data)).toEqual([{ by: 3 }]);
  });

  it('puts correlation, causation, command and idempotency key in the metadata', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    const result = await add(store, id, 1, { ctx: { commandId: 'cmd_1', idempotencyKey: 'k1', actor: 'ann' } });
    expect(result.events[0]!.metadata).toEqual({
      correlationId: 'cmd_1',
      causationId: 'cmd_1',
      commandId: 'cmd_1',
      command: 'add',
      idempotencyKey: 'k1',
      actor: 'ann',
    });
    const caused = await add(store, id, 1, { ctx: { correlationId: 'cor_9', causationId: 'evt_9' } });
    expect(caused.events[0]!.metadata).toMatchObject({ correlationId: 'cor_9', causationId: 'evt_9' });
  });

  it('appends nothing when the decision is empty', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await add(store, id, 4);
    const result = await add(store, id, 0);
    expect(result).toMatchObject({ version: 1, events: [], result: { total: 4, version: 1 } });
    expect(await store.streamVersion(id)).toBe(1);
  });

  it('writes nothing when decide throws', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await expect(add(store, id, -1)).rejects.toBeInstanceOf(IllegalStateError);
    expect(await store.readStream(id)).toEqual([]);
  });

  it('fails at once on a wrong expected version, without retrying', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await add(store, id, 1);
    let loads = 0;
    const counting: Loader<Counter> = (reader, aggregateId) => {
      loads++;
      return replay(counter)(reader, aggregateId);
    };
    const error = await add(store, id, 1, { expectedVersion: 0, load: counting }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflictError);
    expect(error).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
    expect(loads).toBe(1);
  });

  it('retries a conflict when no version was expected', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await add(store, id, 1);
    let loads = 0;
    // The first load sees a stale version, as if another writer committed in between.
    const stale: Loader<Counter> = async (reader, aggregateId) => {
      loads++;
      const loaded = await replay(counter)(reader, aggregateId);
      return loads === 1 ? { ...loaded, version: loaded.version - 1 } : loaded;
    };
    const result = await add(store, id, 5, { load: stale });
    expect(loads).toBe(2);
    expect(result.result).toEqual({ total: 6, version: 2 });
  });

  it(`gives up after ${maxAttempts} conflicting attempts`, async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    await add(store, id, 1);
    let loads = 0;
    const alwaysStale: Loader<Counter> = async (reader, aggregateId) => {
      loads++;
      return { ...(await replay(counter)(reader, aggregateId)), version: 0 };
    };
    await expect(add(store, id, 1, { load: alwaysStale })).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(loads).toBe(maxAttempts);
    expect(await store.streamVersion(id)).toBe(1);
  });

  it('answers a repeated idempotency key with the first result and appends nothing', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    const key = newId('key');
    const first = await add(store, id, 2, { ctx: { idempotencyKey: key } });
    await add(store, id, 10);
    const again = await add(store, id, 2, { ctx: { idempotencyKey: key } });
    expect(again).toMatchObject({ replayed: true, version: 1, result: first.result, events: [] });
    expect(await store.streamVersion(id)).toBe(2);
  });

  it('refuses an idempotency key reused for another command', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    const key = newId('key');
    await add(store, id, 2, { ctx: { idempotencyKey: key } });
    const error = await add(store, id, 3, { ctx: { idempotencyKey: key } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'idempotencyKey' });
    expect(await store.streamVersion(id)).toBe(1);
  });

  it('snapshots when the stream crosses a multiple of snapshotEvery, and loads from it', async () => {
    const store = new InMemoryEventStore();
    const id = newId('ctr');
    for (const by of [1, 2, 3, 4]) await add(store, id, by, { snapshotEvery: 3, load: snapshotAndTail(counter) });
    expect(await store.loadSnapshot(id)).toEqual({ aggregateId: id, version: 3, state: { total: 6 } });
    const viaSnapshot = await snapshotAndTail(counter)(store, id);
    const viaReplay = await replay(counter)(store, id);
    expect(viaSnapshot).toEqual({ state: { total: 10 }, version: 4 });
    expect(viaSnapshot).toEqual(viaReplay);
  });
});
