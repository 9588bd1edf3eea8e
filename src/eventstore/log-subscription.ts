import { compareLogPositions } from './cursor.js';
import type { Relay } from './relay.js';
import type { EventReader, LogFilter } from './store.js';
import type { LogPosition, RecordedEvent } from './types.js';

export type LogSubscriptionOptions = LogFilter & {
  /** Strictly after this position; from the relay's current position ("now") when absent. */
  readonly after?: LogPosition;
  /** Live events held for a slow reader before it falls back to reading the table (the relay's `subscriberBuffer`). */
  readonly bufferLimit?: number;
  readonly pageSize?: number;
  /**
   * Where a catch-up reads the table up to the relay's cursor, given the primary's WAL position
   * at which the relay found it (a replica that has replayed it, else the primary); `reader` when absent.
   */
  readonly catchUpReader?: (lsn: string | undefined) => Promise<EventReader>;
  /** Read the table without events' payloads (`readLog`'s `withoutPayload`); live events keep theirs. */
  readonly withoutPayload?: boolean;
};

/** Live events a subscriber hands over before it lets the event loop take a turn. */
export const eventsPerTurn = 64;

export const matches = (filter: LogFilter) => (event: RecordedEvent): boolean =>
  (filter.aggregateId === undefined || event.aggregateId === filter.aggregateId) &&
  (filter.aggregateType === undefined || event.aggregateType === filter.aggregateType) &&
  (filter.types === undefined || filter.types.includes(event.type));

/**
 * On a log subscription: everything it holds now, at least one event, as one array (the rest of a
 * page read from the table, or of a live batch, at most `eventsPerTurn` of it). A consumer that
 * works a page at a time pays its per-step costs (promises, hooks, a socket write) once per page
 * instead of once per event: a catch-up reads 500 events per page.
 */
export const nextPage = Symbol('cairn.nextPage');

/** A log subscription: events one at a time (`next`), or what it holds at once (`nextPage`). */
export type LogSubscription = AsyncGenerator<RecordedEvent> & {
  [nextPage](): Promise<IteratorResult<readonly RecordedEvent[], undefined>>;
};

/** On a page read from the table: its events are this subscriber's own, no other subscriber gets them. */
const readForOne = new WeakSet<readonly RecordedEvent[]>();

/**
 * Whether a page was read from the table for this subscriber alone (a catch-up), rather than
 * handed over live by the relay, whose event objects every subscriber shares.
 */
export const isOwnPage = (page: readonly unknown[]): boolean => readForOne.has(page as readonly RecordedEvent[]);

/** `part` of `page` (a filtered copy), read for one subscriber as `page` was. */
export const partOfPage = (page: readonly RecordedEvent[], part: readonly RecordedEvent[]): readonly RecordedEvent[] => {
  if (readForOne.has(page)) readForOne.add(part);
  return part;
};

/** The subscription's pages, when `source` is a log subscription (or passes its pages on). */
export const pagesOf = (source: object): (() => Promise<IteratorResult<readonly RecordedEvent[], undefined>>) | undefined => {
  const method = (source as Partial<LogSubscription>)[nextPage];
  return typeof method === 'function' ? method.bind(source) : undefined;
};

/**
 * Every event after a cursor, then live, in commit-safe order with no gap and no duplicate.
 *
 * It listens to the relay first, then reads the table up to the relay's position at that
 * moment, then takes live batches (which all lie beyond it). A reader that falls more than
 * `bufferLimit` events behind drops its buffer and goes back to the table from its own cursor,
 * so a slow client costs the others nothing and memory stays bounded.
 */
export const subscribeToLog = (relay: Relay, reader: EventReader, options: LogSubscriptionOptions = {}): LogSubscription => {
  const stop = new AbortController();
  // The page in hand: `next` takes its events one by one, `nextPage` what is left of it.
  let page: readonly RecordedEvent[] = [];
  let taken = 0;
  // "Now" is when the client subscribed, not when it first pulls: a generator's body runs lazily.
  const pages = follow(relay, reader, { ...options, after: options.after ?? relay.cursor }, stop.signal, () => page.length - taken);
  const ended = { done: true, value: undefined } as const;
  // A generator waiting inside an `await` takes a `return()` only at its next `yield`, so a client
  // leaving a quiet subscription would keep its relay listener until a matching event came, if
  // ever. Closing therefore releases the listener and ends the wait from outside.
  const close = () => {
    stop.abort();
    page = [];
    taken = 0;
  };
  const subscription: LogSubscription = {
    async next() {
      if (taken < page.length) return { done: false, value: page[taken++]! };
      const step = await pages.next();
      if (step.done) return ended;
      page = step.value;
      taken = 1;
      return { done: false, value: page[0]! };
    },
    async [nextPage]() {
      if (taken < page.length) {
        const rest = taken === 0 ? page : partOfPage(page, page.slice(taken));
        taken = page.length;
        return { done: false, value: rest };
      }
      const step = await pages.next();
      if (step.done) return ended;
      page = step.value;
      taken = page.length;
      return { done: false, value: page };
    },
    async return() {
      close();
      await pages.return(undefined);
      return ended;
    },
    async throw(error: unknown) {
      close();
      await pages.return(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return subscription;
    },
  } as LogSubscription;
  return subscription;
};

async function* follow(
  relay: Relay,
  reader: EventReader,
  options: LogSubscriptionOptions & { after: LogPosition },
  stopped: AbortSignal,
  /** Events of the last page handed over that its consumer has not taken yet. */
  inHand: () => number,
): AsyncGenerator<readonly RecordedEvent[], undefined> {
  const filter: LogFilter = {
    ...(options.aggregateId !== undefined && { aggregateId: options.aggregateId }),
    ...(options.aggregateType !== undefined && { aggregateType: options.aggregateType }),
    ...(options.types !== undefined && { types: options.types }),
  };
  const wanted = matches(filter);
  const bufferLimit = options.bufferLimit ?? relay.subscriberBuffer;
  const pageSize = options.pageSize ?? 500;
  let cursor = options.after;
  // Live events in the relay's batches, kept apart: every subscriber of the same events cuts the
  // same pages from them, so identical subscriptions hand their transports identical pages.
  let batches: RecordedEvent[][] = [];
  let buffered = 0;
  let takenLeft = 0; // taken from `batches`, not handed over yet
  let sinceTurn = 0; // live events handed over since the event loop last had a turn
  let overflowed = false;
  let closed = relay.closed;
  let wake: (() => void) | null = null;
  const signal = () => {
    wake?.();
    wake = null;
  };

  const unsubscribe = relay.subscribe(
    (batch) => {
      if (overflowed) return;
      const mine = batch.filter(wanted);
      if (mine.length === 0) return;
      if (buffered + mine.length > bufferLimit) {
        overflowed = true;
        batches = [];
        buffered = 0;
        relay.recordOverflow();
      } else {
        batches.push(mine);
        buffered += mine.length;
      }
      signal();
    },
    () => {
      closed = true;
      signal();
    },
    () => buffered + takenLeft + inHand(),
    options.aggregateId,
  );
  stopped.addEventListener(
    'abort',
    () => {
      unsubscribe();
      closed = true;
      signal();
    },
    { once: true },
  );
  try {
    while (!closed) {
      // Catch up from the table to where the relay stood when we (re)started listening.
      overflowed = false;
      batches = [];
      buffered = 0;
      const until = relay.cursor;
      // A replica that has not replayed `until` yet would return a short page, and the cursor
      // would jump to `until` past what it has not seen: read where `until` is known to be.
      const source = compareLogPositions(cursor, until) < 0 && options.catchUpReader ? await options.catchUpReader(relay.cursorLsn) : reader;
      // The next page is asked for as soon as the current one arrives, so that PostgreSQL reads it
      // while this one goes out: read one after the other, a catch-up sat idle a third of its time.
      const readPage = (after: LogPosition) => {
        const page = source.readLog({ ...filter, after, until, limit: pageSize, ...(options.withoutPayload && { withoutPayload: true }) });
        page.catch(() => undefined); // a reader that leaves mid-page never awaits it
        return page;
      };
      let pending = compareLogPositions(cursor, until) < 0 ? readPage(cursor) : null;
      while (pending) {
        const page = await pending;
        const last = page.at(-1);
        pending = page.length === pageSize && last && compareLogPositions(last.logPosition, until) < 0 ? readPage(last.logPosition) : null;
        if (last) {
          cursor = last.logPosition;
          readForOne.add(page);
          yield page;
        }
        if (page.length < pageSize) cursor = until;
      }
      // Live: everything the relay hands over now lies beyond `until`.
      while (!closed && !overflowed) {
        if (batches.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          sinceTurn = 0; // the loop turned while it waited
          continue;
        }
        const taken = batches;
        batches = [];
        takenLeft = buffered;
        buffered = 0;
        // A live batch is handed over in promise callbacks, which never let the event loop turn:
        // a thousand subscribers working through 500 events each stalled a server for seconds (no
        // requests served, no disconnects noticed). It goes in pages of at most `eventsPerTurn`,
        // and the loop turns between them.
        for (const batch of taken) {
          const fresh = compareLogPositions(batch[0]!.logPosition, cursor) > 0 ? batch : batch.filter((event) => compareLogPositions(event.logPosition, cursor) > 0);
          for (let start = 0; start < fresh.length && !closed; start += eventsPerTurn) {
            if (sinceTurn >= eventsPerTurn) {
              sinceTurn = 0;
              await new Promise<void>((resolve) => setImmediate(resolve));
              if (closed) break;
            }
            const live = start === 0 && fresh.length <= eventsPerTurn ? fresh : fresh.slice(start, start + eventsPerTurn);
            cursor = live.at(-1)!.logPosition;
            sinceTurn += live.length;
            takenLeft -= live.length;
            yield live;
          }
          takenLeft -= batch.length - fresh.length;
        }
        takenLeft = 0;
      }
    }
  } finally {
    unsubscribe();
  }
}
