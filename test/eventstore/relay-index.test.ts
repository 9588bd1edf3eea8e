import { describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import type { PostgresSession } from '../../src/eventstore/postgres-store.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { useApp } from '../helpers/app.js';

const app = await useApp({ relayPollMs: 100, processManagers: [] });
const { relay, store } = app.services;

const append = (aggregateId: string) =>
  store.transaction((session: PostgresSession) =>
    session.appendToStream(
      { aggregateId, aggregateType: 'Indexed' },
      [{ type: 'Indexed', data: {} }],
      { expectedVersion: undefined, metadata: { correlationId: 'c', causationId: 'c' }, occurredAt: new Date() },
    ),
  );

describe('relay listeners to one aggregate', () => {
  it('are handed only batches that hold that aggregate’s events, and only those events', async () => {
    const watched = newId('ix');
    const other = newId('ix');
    const batches: RecordedEvent[][] = [];
    const before = relay.listenerCount;
    const unsubscribe = relay.subscribe((batch) => batches.push([...batch]), () => undefined, undefined, watched);
    expect(relay.listenerCount).toBe(before + 1);
    try {
      await append(other);
      await relay.settle();
      await append(watched);
      await append(other);
      await append(watched);
      await relay.settle();
      const handed = batches.flat();
      expect(handed.map((event) => event.aggregateId)).toEqual([watched, watched]);
      expect(handed.map((event) => event.version)).toEqual([1, 2]);
      expect(batches.every((batch) => batch.length > 0)).toBe(true);
    } finally {
      unsubscribe();
      unsubscribe();
    }
    expect(relay.listenerCount).toBe(before);
  });
});
