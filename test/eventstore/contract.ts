import { describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, EventStoreError } from '../../src/eventstore/errors.js';
import { newId } from '../../src/eventstore/ids.js';
import type { EventStore } from '../../src/eventstore/store.js';
import type { Event, RecordedEvent } from '../../src/eventstore/types.js';
import { compareLogPositions } from '../../src/eventstore/cursor.js';
import { waitFor } from '../helpers/wait.js';

const metadata = { correlationId: 'cor_test', causationId: 'cmd_test' };
const at = new Date('2026-11-24T12:00:00.000Z');
const event = (n: number): Event => ({ type: 'Counted', data: { n } });

/**
 * The behaviour every event store must have. Run against PostgreSQL and the in-memory store,
 * so the fast tests that use the latter stand on the same rules.
 */
export const eventStoreContract = (name: string, makeStore: () => EventStore) => {
  describe(`event store contract: ${name}`, () => {
    const store = makeStore();
    // A type of our own per test keeps the global log readable among parallel test files.
    const stream = () => ({ aggregateId: newId('ctr'), aggregateType: `Counter_${newId('t').slice(2, 12)}` });
    const append = (ref: ReturnType<typeof stream>, events: Event[], expectedVersion: number | undefined) =>
      store.transaction((session) => session.appendToStream(ref, events, { expectedVersion, metadata, occurredAt: at }));
    const logOf = (aggregateType: string, count: number) =>
      waitFor(async () => {
        const events = await store.readLog({ aggregateType, limit: 1000 });
        return events.length >= count ? events : undefined;
      }, `${count} events of ${aggregateType} behind the fence`);

    it('creates a stream with expected version 0 and records what it was given', async () => {
      const ref = stream();
      const result = await append(ref, [event(1), event(2)], 0);
      expect(result.version).toBe(2);
      expect(result.events.map((e) => [e.version, e.type, e.data])).toEqual([
        [1, 'Counted', { n: 1 }],
        [2, 'Counted', { n: 2 }],
      ]);
      const [first] = result.events as RecordedEvent[];
      expect(first!.id).toMatch(/^evt_[0-9A-Za-z]{27}$/);
      expect(first!.metadata).toEqual(metadata);
      expect(first!.occurredAt.toISOString()).toBe(at.toISOString());
      expect(await store.streamVersion(ref.aggregateId)).toBe(2);
    });

    it('appends at the exact expected version and rejects any other', async () => {
      const ref = stream();
      await append(ref, [event(1)], 0);
      await expect(append(ref, [event(2)], 1)).resolves.toMatchObject({ version: 2 });
      await expect(append(ref, [event(3)], 1)).rejects.toBeInstanceOf(ConcurrencyConflictError);
      await expect(append(ref, [event(3)], 0)).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.streamVersion(ref.aggregateId)).toBe(2);
    });

    it('treats expected version n > 0 on a missing stream as a conflict', async () => {
      const ref = stream();
      await expect(append(ref, [event(1)], 3)).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.streamVersion(ref.aggregateId)).toBeUndefined();
      expect(await store.readStream(ref.aggregateId)).toEqual([]);
    });

    it('appends after whatever is there when no version is expected', async () => {
      const ref = stream();
      await expect(append(ref, [event(1)], undefined)).resolves.toMatchObject({ version: 1 });
      await expect(append(ref, [event(2), event(3)], undefined)).resolves.toMatchObject({ version: 3 });
      expect((await store.readStream(ref.aggregateId)).map((e) => e.version)).toEqual([1, 2, 3]);
    });

    it('answers an append with the events exactly as it stored them, positions following versions', async () => {
      const ref = stream();
      const created = await append(ref, [event(1)], 0);
      const pinned = await append(ref, [event(2), event(3)], 1);
      const free = await append(ref, [event(4), event(5), event(6)], undefined);
      const answered = [...created.events, ...pinned.events, ...free.events];
      expect(await store.readStream(ref.aggregateId)).toEqual(answered);
      expect(answered.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
      const positions = answered.map((e) => e.logPosition);
      expect([...positions].sort(compareLogPositions)).toEqual(positions);
    });

    it('refuses to append nothing', async () => {
      const ref = stream();
      await expect(append(ref, [], 0)).rejects.toBeInstanceOf(EventStoreError);
      expect(await store.streamVersion(ref.aggregateId)).toBeUndefined();
    });

    it('reads a stream strictly after a version, with a limit', async () => {
      const ref = stream();
      await append(ref, [1, 2, 3, 4, 5].map(event), 0);
      expect((await store.readStream(ref.aggregateId, { afterVersion: 2 })).map((e) => e.version)).toEqual([3, 4, 5]);
      expect((await store.readStream(ref.aggregateId, { afterVersion: 1, limit: 2 })).map((e) => e.version)).toEqual([
        2, 3,
      ]);
      expect(await store.readStream(ref.aggregateId, { afterVersion: 5 })).toEqual([]);
    });

    it('keeps streams apart', async () => {
      const a = stream();
      const b = { ...stream(), aggregateType: a.aggregateType };
      await append(a, [event(1)], 0);
      await append(b, [event(10), event(11)], 0);
      await append(a, [event(2)], 1);
      expect((await store.readStream(a.aggregateId)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect((await store.readStream(b.aggregateId)).map((e) => e.data)).toEqual([{ n: 10 }, { n: 11 }]);
      expect(await store.readStream(newId('ctr'))).toEqual([]);
    });

    it('refuses to append to a stream under another aggregate type', async () => {
      const ref = stream();
      await append(ref, [event(1)], 0);
      for (const expected of [undefined, 1]) {
        await expect(append({ ...ref, aggregateType: 'Other' }, [event(2)], expected)).rejects.toBeInstanceOf(
          EventStoreError,
        );
      }
      expect((await store.readStream(ref.aggregateId)).map((e) => [e.version, e.aggregateType])).toEqual([
        [1, ref.aggregateType],
      ]);
    });

    it('reads the global log in commit order, after a position, with filters', async () => {
      const a = stream();
      const b = { ...stream(), aggregateType: a.aggregateType };
      await append(a, [event(1)], 0);
      await append(b, [event(2)], 0);
      await append(a, [event(3), event(4)], 1);
      const log = await logOf(a.aggregateType, 4);
      expect(log.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      for (let i = 1; i < log.length; i++) {
        expect(compareLogPositions(log[i - 1]!.logPosition, log[i]!.logPosition)).toBeLessThan(0);
      }
      const after = await store.readLog({ aggregateType: a.aggregateType, after: log[1]!.logPosition, limit: 10 });
      expect(after.map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }]);
      const limited = await store.readLog({ aggregateType: a.aggregateType, limit: 2 });
      expect(limited.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
      const onlyB = await store.readLog({ aggregateId: b.aggregateId, limit: 10 });
      expect(onlyB.map((e) => e.data)).toEqual([{ n: 2 }]);
      const byType = await store.readLog({ aggregateType: a.aggregateType, types: ['Nothing'], limit: 10 });
      expect(byType).toEqual([]);
      const until = await store.readLog({ aggregateType: a.aggregateType, until: log[2]!.logPosition, limit: 10 });
      expect(until.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    });

    it('knows the positions of its own events and no others', async () => {
      const ref = stream();
      await append(ref, [event(1), event(2)], 0);
      const [first, second] = await logOf(ref.aggregateType, 2);
      expect(await store.hasEvent(first!.logPosition)).toBe(true);
      expect(await store.hasEvent(second!.logPosition)).toBe(true);
      // The same position under another transaction id, as a cursor from another database would have it.
      const { transactionId, position } = second!.logPosition;
      expect(await store.hasEvent({ transactionId: transactionId + 1n, position })).toBe(false);
      expect(await store.hasEvent({ transactionId, position: position + 1_000_000n })).toBe(false);
    });

    it('rolls back every append of a failed transaction', async () => {
      const ref = stream();
      const other = { ...stream(), aggregateType: ref.aggregateType };
      await expect(
        store.transaction(async (session) => {
          await session.appendToStream(ref, [event(1)], { expectedVersion: 0, metadata, occurredAt: at });
          await session.appendToStream(other, [event(2)], { expectedVersion: 5, metadata, occurredAt: at });
        }),
      ).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.streamVersion(ref.aggregateId)).toBeUndefined();
      expect(await store.readStream(ref.aggregateId)).toEqual([]);
    });

    describe('snapshots', () => {
      it('returns null for the latest snapshot of an unknown stream', async () => {
        await expect(store.loadSnapshot(newId('ctr'))).resolves.toBeNull();
      });

      it('stores snapshots and returns the latest', async () => {
        const ref = stream();
        await append(ref, [1, 2, 3].map(event), 0);
        await store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 2, state: { total: 3 } }));
        await store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 3, state: { total: 6 } }));
        await expect(store.loadSnapshot(ref.aggregateId)).resolves.toEqual({
          aggregateId: ref.aggregateId,
          version: 3,
          state: { total: 6 },
        });
      });

      it('reads the events after the latest snapshot, or all of them without one', async () => {
        const ref = stream();
        await append(ref, [1, 2, 3, 4].map(event), 0);
        const versionsAfterSnapshot = async () =>
          (await store.readStream(ref.aggregateId, { afterLatestSnapshot: true })).map((recorded) => recorded.version);
        expect(await versionsAfterSnapshot()).toEqual([1, 2, 3, 4]);
        await store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 3, state: {} }));
        await store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 1, state: {} }));
        expect(await versionsAfterSnapshot()).toEqual([4]);
        await store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 4, state: {} }));
        expect(await versionsAfterSnapshot()).toEqual([]);
      });

      it('rejects a snapshot newer than its stream', async () => {
        const ref = stream();
        await append(ref, [event(1)], 0);
        await expect(
          store.transaction((s) => s.saveSnapshot({ aggregateId: ref.aggregateId, version: 2, state: {} })),
        ).rejects.toBeInstanceOf(EventStoreError);
        await expect(
          store.transaction((s) => s.saveSnapshot({ aggregateId: newId('ctr'), version: 1, state: {} })),
        ).rejects.toBeInstanceOf(EventStoreError);
        await expect(store.loadSnapshot(ref.aggregateId)).resolves.toBeNull();
      });
    });

    describe('idempotency records', () => {
      it('finds a saved record and refuses a second one with the same key', async () => {
        const key = newId('key');
        const record = { key, command: 'c', fingerprint: 'f', aggregateId: 'a', version: 1, result: { ok: true } };
        await expect(store.transaction((s) => s.saveIdempotencyRecord(record))).resolves.toBe(true);
        await expect(store.transaction((s) => s.saveIdempotencyRecord({ ...record, version: 2 }))).resolves.toBe(false);
        await expect(store.transaction((s) => s.findIdempotencyRecord(key))).resolves.toMatchObject({
          version: 1,
          result: { ok: true },
        });
        await expect(store.transaction((s) => s.findIdempotencyRecord(newId('key')))).resolves.toBeNull();
      });
    });
  });
};
