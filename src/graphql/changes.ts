import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { Services } from './context.js';

/**
 * The projection of one aggregate after each committed change, from now on. Versions only go
 * up: a row already sent (or older) is never sent again.
 */
export async function* projectionChanges<Row extends { version: number }>(
  services: Services,
  aggregateId: string,
  load: (id: string) => Promise<Row | undefined>,
): AsyncGenerator<Row> {
  let sent = 0;
  for await (const _event of subscribeToLog(services.relay, services.store, { aggregateId })) {
    const row = await load(aggregateId);
    if (row && row.version > sent) {
      sent = row.version;
      yield row;
    }
  }
}
