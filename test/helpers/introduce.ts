import { newId } from '../../src/eventstore/ids.js';
import type { EventStore } from '../../src/eventstore/store.js';

/** The event type of `introduce`'s event: filter it out of what a test compares. */
export const introduced = 'Introduced';

/**
 * Makes an ad-hoc aggregate type known to the log before a test subscribes to it: a filter on a
 * type the log has never held is VALIDATION_FAILED (most likely a typo). Writes one event of type
 * `Introduced` in a stream of its own, and returns that event's id.
 */
export const introduce = async (store: EventStore, aggregateType: string): Promise<string> => {
  const { events } = await store.transaction((session) =>
    session.appendToStream({ aggregateId: newId('intro'), aggregateType }, [{ type: introduced, data: {} }], {
      expectedVersion: 0,
      metadata: { correlationId: 'cor_introduce', causationId: 'cmd_introduce' },
      occurredAt: new Date(),
    }),
  );
  return events[0]!.id;
};
