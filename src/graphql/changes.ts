import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { viewAtVersion, type ViewEvolve } from '../eventstore/view-projection.js';
import type { Services } from './context.js';

/**
 * The projection of one aggregate after each committed change, from the moment of subscribing.
 * Versions only go up: a row already sent (or an older one) is never sent again.
 */
export const projectionChanges = async <Row extends { version: number }>(
  services: Services,
  aggregateId: string,
  /** The row to send after `event`; the current row when it ignores the event. */
  load: (id: string, event: RecordedEvent) => Promise<Row | undefined>,
): Promise<AsyncGenerator<Row>> => {
  // From the newest commit-safe position at the moment of subscribing.
  const after = await services.relay.head();
  const events = subscribeToLog(services.relay, services.store, { aggregateId, after });
  const changes = rows(events, aggregateId, load);
  // A generator parked in `await` takes `return()` only at its next yield; closing the event
  // subscription directly releases its relay listener even when no change ever comes.
  const iterator: AsyncGenerator<Row> = {
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
      return iterator;
    },
  };
  return iterator;
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

/**
 * The row as of each event: the current row when it is at that version (the usual case), else
 * rebuilt from the stream at that version (the subscriber lags behind the aggregate), so every
 * committed change is pushed once, in order, even when commands follow each other quickly.
 */
export const rowAsOfEvent =
  <Row extends { version: number }>(
    services: Services,
    current: (id: string) => Promise<Row | undefined>,
    evolve: ViewEvolve<Row, never>,
  ) =>
  async (id: string, event: RecordedEvent): Promise<Row | undefined> => {
    const row = await current(id);
    if (!row || row.version === event.version) return row;
    return (await viewAtVersion(services.store, id, event.version, evolve as ViewEvolve<Row>)) ?? undefined;
  };
