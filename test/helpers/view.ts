import { expect } from 'vitest';
import type { Event, ProjectedEvent, RecordedEvent } from '../../src/eventstore/types.js';
import type { ViewEvolve } from '../../src/eventstore/view-projection.js';

/** When the n-th event (0-based) was commanded and recorded: a minute apart, recorded a second later. */
export const occurredAt = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n));
export const recordedAt = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n, 1));

/** Events of one stream as the store records them: versions from 1, times as above. */
export const recorded = <E extends Event>(aggregateId: string, events: readonly E[]): RecordedEvent<E>[] =>
  events.map((event, n) => ({
    ...event,
    id: `evt_${n}`,
    aggregateId,
    aggregateType: 'Test',
    version: n + 1,
    metadata: { correlationId: 'c', causationId: 'c' },
    occurredAt: occurredAt(n),
    recordedAt: recordedAt(n),
    logPosition: { transactionId: BigInt(n + 1), position: BigInt(n + 1) },
  }));

/** Events as an inline projection sees them: as decided, without what the database assigns. */
const projected = <E extends Event>(aggregateId: string, events: readonly E[]): ProjectedEvent<E>[] =>
  recorded(aggregateId, events).map(({ recordedAt: _recordedAt, logPosition: _logPosition, ...event }) => event as ProjectedEvent<E>);

/** given(events).then(row): a projection's pure fold, the way decider specs test a decider. No database. */
export const viewSpec = <View, E extends Event>(evolve: ViewEvolve<View, E>, aggregateId: string) => ({
  given: (events: readonly E[]) => {
    const view = projected(aggregateId, events).reduce<View | undefined>((row, event) => evolve(row, event), undefined);
    return {
      then: (expected: View | undefined) => expect(view).toEqual(expected),
      thenMatches: (expected: Partial<View>) => expect(view).toMatchObject(expected),
    };
  },
});
