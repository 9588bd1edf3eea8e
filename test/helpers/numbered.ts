import { newId } from '../../src/eventstore/ids.js';
import type { EventStoreSession } from '../../src/eventstore/store.js';

/** Appends one `Numbered` event, `{ n }`, as the first of a new stream of `aggregateType`. */
export const appendNumbered = (session: EventStoreSession, aggregateType: string, n: number) =>
  session.appendToStream({ aggregateId: newId('num'), aggregateType }, [{ type: 'Numbered', data: { n } }], {
    expectedVersion: 0,
    metadata: { correlationId: 'cor_numbered', causationId: 'cmd_numbered' },
    occurredAt: new Date(),
  });
