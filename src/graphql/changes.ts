import { logStart } from '../eventstore/cursor.js';
import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { viewAtVersion, type ViewEvolve } from '../eventstore/view-projection.js';
import type { ResolverServices } from './context.js';

/**
 * Where a subscription's rows come from: the row at one version (read once, when the subscription
 * starts and after a gap), and the projection's own pure `evolve`, which turns the row at one
 * version and the next event into the row at the next: exactly what the projection wrote.
 */
export type RowSource<Row extends { version: number }> = {
  /** The row at exactly this version; undefined when the stream has no such version. */
  readonly at: (id: string, version: number) => Promise<Row | undefined>;
  readonly evolve: ViewEvolve<Row, never>;
};

/**
 * The projection of one aggregate after each committed change: every version after `afterVersion`
 * (the ones already committed first, read back from the log), or, without it, after the version
 * the stream has at the moment of subscribing; once each, in order. Undefined when the aggregate
 * has no stream (nothing to watch).
 *
 * Each change costs no read: the row is read once, at the version the subscription starts from,
 * and every event that follows is folded into it with the projection's `evolve`, in memory (the
 * log hands a stream's events over in version order, without gaps). A thousand pushes a second
 * are a thousand `evolve` calls, not a thousand round trips to the database.
 */
export const projectionChanges = async <Row extends { version: number }>(
  services: ResolverServices,
  aggregateId: string,
  source: RowSource<Row>,
  afterVersion?: number,
): Promise<AsyncGenerator<Row> | undefined> => {
  // The newest commit-safe position first, then the stream's version: a change after that version
  // committed after this position was taken, so it lies after it. Changes up to that version may
  // lie after the position too (a transaction still open elsewhere holds it back): they are skipped.
  const head = await services.relay.head();
  const version = await services.store.streamVersion(aggregateId);
  if (version === undefined) return undefined;
  const from = Math.min(afterVersion ?? version, version);
  const start = from === 0 ? undefined : await source.at(aggregateId, from);
  // Versions the client has not seen yet but that are committed: from the log, where the stream's
  // events follow its versions, after the event of version `from`.
  const after = from >= version ? head : from === 0 ? logStart : (await services.store.readStream(aggregateId, { afterVersion: from - 1, limit: 1 }))[0]!.logPosition;
  const events = subscribeToLog(services.relay, services.store, { aggregateId, after });
  const changes = rows(events, aggregateId, source, from, start);
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
  source: RowSource<Row>,
  from: number,
  start: Row | undefined,
): AsyncGenerator<Row> {
  let sent = from;
  let row = start;
  for await (const event of events) {
    if (event.version <= sent) continue; // already in the row the client has
    // The next version folds into the row in hand; anything else (never expected: the log hands
    // a stream over without gaps) is read at that version instead.
    const next =
      event.version === sent + 1 && (row !== undefined || sent === 0)
        ? (source.evolve(row, event as RecordedEvent<never>) ?? undefined)
        : await source.at(aggregateId, event.version);
    if (next === undefined || next.version !== event.version) {
      // The projection ignored the event or removed the row: nothing to push; read afresh next time.
      row = undefined;
      sent = event.version;
      continue;
    }
    row = next;
    sent = next.version;
    yield next;
  }
}

/**
 * The row at one version: the current row when it is at that version (the usual case), else
 * rebuilt from the stream up to that version with the projection's `evolve`.
 */
export const rowAtVersion =
  <Row extends { version: number }>(
    services: ResolverServices,
    current: (id: string) => Promise<Row | undefined>,
    evolve: ViewEvolve<Row, never>,
  ) =>
  async (id: string, version: number): Promise<Row | undefined> => {
    const row = await current(id);
    if (!row || row.version === version) return row;
    return (await viewAtVersion(services.store, id, version, evolve as ViewEvolve<Row>)) ?? undefined;
  };
