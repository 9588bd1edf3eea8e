import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { Services } from './context.js';

/**
 * The projection of one aggregate after each committed change, from the moment of subscribing.
 * Versions only go up: a row already sent (or an older one) is never sent again.
 */
export const projectionChanges = <Row extends { version: number }>(
  services: Services,
  aggregateId: string,
  /** The row to send after `event`; the current row when it ignores the event. */
  load: (id: string, event: RecordedEvent) => Promise<Row | undefined>,
): AsyncGenerator<Row> => {
  const events = subscribeToLog(services.relay, services.store, { aggregateId });
  const changes = rows(events, aggregateId, load);
  // A generator parked in `await` takes `return()` only at its next yield; closing the event
  // subscription directly releases its relay listener even when no change ever comes.
  return {
    next: (...args) => changes.next(...args),
    return: async (value) => {
      await events.return(undefined);
      return changes.return(value);
    },
    throw: async (error) => {
      await events.return(undefined);
      return changes.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
};

async function* rows<Row extends { version: number }>(
  events: AsyncIterable<RecordedEvent>,
  aggregateId: string,
  load: (id: string, event: RecordedEvent) => Promise<Row | undefined>,
): AsyncGenerator<Row> {
  let sent = 0;
  for await (const event of events) {
    const row = await load(aggregateId, event);
    if (row && row.version > sent) {
      sent = row.version;
      yield row;
    }
  }
}
