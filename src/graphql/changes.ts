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
  load: (id: string) => Promise<Row | undefined>,
): AsyncGenerator<Row> => rows(subscribeToLog(services.relay, services.store, { aggregateId }), aggregateId, load);

async function* rows<Row extends { version: number }>(
  events: AsyncGenerator<RecordedEvent>,
  aggregateId: string,
  load: (id: string) => Promise<Row | undefined>,
): AsyncGenerator<Row> {
  let sent = 0;
  for await (const _event of events) {
    const row = await load(aggregateId);
    if (row && row.version > sent) {
      sent = row.version;
      yield row;
    }
  }
}
