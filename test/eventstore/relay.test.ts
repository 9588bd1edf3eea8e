import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '../../src/db/client.js';
import { compareLogPositions } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { eventsPerTurn, nextPage, subscribeToLog, type LogSubscriptionOptions } from '../../src/eventstore/log-subscription.js';
import { createNotifier } from '../../src/eventstore/notifier.js';
import { PostgresEventStore, type PostgresSession } from '../../src/eventstore/postgres-store.js';
import { Relay } from '../../src/eventstore/relay.js';
import type { EventStore } from '../../src/eventstore/store.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { testLogger, useApp, useEmptyDatabase, useIsolatedDatabase } from '../helpers/app.js';
import { waitFor, within } from '../helpers/wait.js';

// Killing LISTEN connections would hit the relays of the files running beside this one.
const url = await useIsolatedDatabase();
// A safety poll too slow to matter: here the doorbell delivers unless a test says otherwise.
const app = await useApp({ databaseUrl: url, relayPollMs: 60_000 });
const { db, store, relay } = app.services;

// Its own pool, so killing and ringing never wait behind the store's connections.
const side = connect(url, { max: 2, applicationName: 'relay-test' });
afterAll(() => side.close());

const aggregateType = 'RelayProbe';
const metadata = { correlationId: 'cor_relay_test', causationId: 'cmd_relay_test' };

const appendIn = (session: PostgresSession, aggregateId: string, ns: readonly number[]) =>
  session.appendToStream({ aggregateId, aggregateType }, ns.map((n) => ({ type: 'Probed', data: { n } })), {
    expectedVersion: undefined,
    metadata,
    occurredAt: new Date(),
  });

const append = (target: EventStore<PostgresSession>, aggregateId: string, ...ns: number[]) =>
  target.transaction((session) => appendIn(session, aggregateId, ns));

/** What `source` hands to a listener, restricted to these aggregates; unsubscribed when the test ends. */
const listen = (source: Relay, aggregateIds: readonly string[]) => {
  const mine = new Set(aggregateIds);
  const received: RecordedEvent[] = [];
  const unsubscribe = source.subscribe(
    (batch) => received.push(...batch.filter((event) => mine.has(event.aggregateId))),
    () => undefined,
  );
  onTestFinished(unsubscribe);
  return received;
};

const numbers = (events: readonly RecordedEvent[]) => events.map((event) => event.data.n);

const expectLogOrder = (events: readonly RecordedEvent[]) => {
  for (let i = 1; i < events.length; i++) {
    expect(compareLogPositions(events[i - 1]!.logPosition, events[i]!.logPosition)).toBeLessThan(0);
  }
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Terminates every relay LISTEN connection to this database; returns how many it ended. */
const killListeners = async (): Promise<number> => {
  const rows = await side.sql<{ ended: boolean }[]>`
    select pg_terminate_backend(pid) as ended from pg_stat_activity
     where application_name = 'cairn-relay' and datname = current_database()`;
  return rows.filter((row) => row.ended).length;
};

describe('relay', () => {
  it('hands committed events to its listeners once each, in (transaction id, position) order', async () => {
    const ids = [newId('prb'), newId('prb'), newId('prb'), newId('prb')];
    const received = listen(relay, ids);
    const start = relay.cursor;

    // Writers that hold their transaction a random while, so commits overtake positions.
    await Promise.all(
      ids.map(async (id, writer) => {
        for (let i = 0; i < 10; i++) {
          await store.transaction(async (session) => {
            await appendIn(session, id, [writer * 100 + i * 2, writer * 100 + i * 2 + 1]);
            await session.tx.execute(sql`select pg_sleep(${Math.random() * 0.01})`);
          });
        }
      }),
    );
    await waitFor(() => received.length >= 80, 'all 80 events');
    await relay.settle();

    const log = (await store.readLog({ after: start, limit: 1_000 })).filter((event) => ids.includes(event.aggregateId));
    expect(log).toHaveLength(80);
    expect(received.map((event) => event.id)).toEqual(log.map((event) => event.id));
    expectLogOrder(received);
    // Both events of a transaction arrive together, in append order.
    for (const id of ids) {
      expect(received.filter((event) => event.aggregateId === id).map((event) => event.version)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }
  });

  it('delivers every event exactly once, in order, while its LISTEN connection keeps being killed', async () => {
    // Writes that ring only the NOTIFY doorbell (no local poke): the relay hears of them through LISTEN
    // or, for those committed while it was cut off, by reading after its cursor once reconnected.
    const notifier = createNotifier(side.sql, testLogger);
    const ringing = new PostgresEventStore(db, () => notifier.ring());
    const id = newId('prb');
    const received = listen(relay, [id]);
    const total = 40;

    let writing = true;
    let killed = 0;
    const killing = (async () => {
      while (writing) {
        killed += await killListeners();
        await pause(15);
      }
    })();
    try {
      for (let n = 0; n < total; n++) {
        await append(ringing, id, n);
        await pause(3);
      }
    } finally {
      writing = false;
      await killing;
    }

    expect(killed).toBeGreaterThan(1);
    await waitFor(() => received.length >= total, `all ${total} events`, 15_000);
    await waitFor(() => relay.ready, 'the relay to be ready again', 15_000);
    expect(numbers(received)).toEqual(Array.from({ length: total }, (_, n) => n));
    expectLogOrder(received);

    // LISTEN works again: the doorbell alone delivers the next one.
    await append(ringing, id, total);
    await waitFor(() => received.length > total, 'an event after the reconnect');
    await relay.settle();
    expect(numbers(received)).toEqual(Array.from({ length: total + 1 }, (_, n) => n));
  });

  it("ignores the echo of its own instance's doorbell (poked in process already) and hears every other", async () => {
    const own = createNotifier(side.sql, testLogger, relay.doorbellPayload);
    const other = createNotifier(side.sql, testLogger, 'another instance');
    const echoes = relay.echoesIgnored;
    own.ring();
    await waitFor(() => relay.echoesIgnored === echoes + 1, 'the echo of its own doorbell');
    // Another instance's doorbell makes it read: an event committed without any local poke arrives.
    const id = newId('prb');
    const received = listen(relay, [id]);
    await append(new PostgresEventStore(db, () => other.ring()), id, 1);
    await waitFor(() => received.length === 1, "the event another instance's doorbell announced");
    expect(relay.echoesIgnored).toBe(echoes + 1);
  });

  it('reads at once after a quiet spell, and waits out its read gap under a stream of doorbells', async () => {
    const gapMs = 150;
    const gapped = new Relay({ db, listenUrl: url, pollMs: 60_000, logger: testLogger, readGapMs: gapMs });
    await gapped.start();
    onTestFinished(() => gapped.stop());
    await gapped.settle();
    const silent = new PostgresEventStore(db);
    const id = newId('prb');
    const arrivals: number[] = [];
    const received = listen(gapped, [id]);
    onTestFinished(gapped.subscribe(() => arrivals.push(performance.now()), () => undefined));

    await append(silent, id, 1);
    // A quiet spell. (Reads also come from the relay's quick retries while an open transaction
    // anywhere in the cluster holds the fence, which parallel test files do all the time.)
    await waitFor(() => gapped.idle, 'the relay to be idle for a whole gap');
    const reads = gapped.reads;
    gapped.poke();
    expect(gapped.reads).toBe(reads + 1); // the read started at once
    await waitFor(() => received.length === 1, 'the first event');
    const first = arrivals.at(-1)!;

    await append(silent, id, 2);
    gapped.poke();
    await waitFor(() => received.length === 2, 'the second event');
    // The read that found it started a whole gap after the one before it had ended.
    expect(arrivals.at(-1)! - first).toBeGreaterThanOrEqual(gapMs - 1);
    expect(numbers(received)).toEqual([1, 2]);
  });

  it('delivers through its safety poll when no doorbell rings', async () => {
    const polling = new Relay({ db, listenUrl: url, pollMs: 100, logger: testLogger });
    await polling.start();
    onTestFinished(() => polling.stop());
    // No NOTIFY and no local poke after commit.
    const silent = new PostgresEventStore(db);
    const id = newId('prb');
    const received = listen(polling, [id]);

    for (let n = 0; n < 3; n++) await append(silent, id, n);
    await waitFor(() => received.length >= 3, 'the first polled events', 3_000);
    // Again, several poll periods later: the poll keeps running.
    await pause(350);
    for (let n = 3; n < 6; n++) await append(silent, id, n);
    await waitFor(() => received.length >= 6, 'the later polled events', 3_000);

    expect(numbers(received)).toEqual([0, 1, 2, 3, 4, 5]);
    expectLogOrder(received);
  });

  it('holds back events behind an open older transaction, then delivers both in commit-safe order', async () => {
    const [a, b] = [newId('prb'), newId('prb')];
    const received = listen(relay, [a, b]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let positioned!: (event: RecordedEvent) => void;
    const tookPosition = new Promise<RecordedEvent>((resolve) => (positioned = resolve));

    // A takes the smaller position and transaction id, then stays open.
    const open = store.transaction(async (session) => {
      const { events } = await appendIn(session, a, [1]);
      positioned(events[0]!);
      await gate;
    });
    try {
      const first = await tookPosition;
      const { events } = await append(store, b, 2);
      const second = events[0]!;
      expect(compareLogPositions(first.logPosition, second.logPosition)).toBeLessThan(0);
      expect(first.logPosition.position).toBeLessThan(second.logPosition.position);

      // B is committed, but a reader that moved past it now would skip A: nothing may come out.
      await relay.settle();
      await pause(300);
      expect(received).toEqual([]);
      expect(compareLogPositions(relay.cursor, first.logPosition)).toBeLessThan(0);
    } finally {
      release();
      await open;
    }

    await waitFor(() => received.length >= 2, 'both events once A commits');
    await relay.settle();
    expect(received.map((event) => [event.aggregateId, event.data.n])).toEqual([
      [a, 1],
      [b, 2],
    ]);
  });

  it('keeps retrying every few tens of milliseconds while a transaction in another database holds the fence, however long', async () => {
    // The fence is cluster-wide: a transaction open in another database holds it too, and its
    // end rings no doorbell here. Only the relay's own retries find the events once it ends.
    const other = connect(await useEmptyDatabase(), { max: 1, applicationName: 'relay-test-other' });
    onTestFinished(() => other.close());
    const id = newId('prb');
    const received = listen(relay, [id]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const holding = new Promise<void>((resolve) => (opened = resolve));
    const open = other.sql.begin(async (tx) => {
      await tx`select pg_current_xact_id()`;
      opened();
      await gate;
    });
    try {
      await holding;
      await append(store, id, 1);
      // Ten reads in 5 s: a backoff doubling from 10 ms would take 10 s for them (10, 20 … 5,120 ms).
      const reads = relay.reads;
      await waitFor(() => relay.reads >= reads + 10, 'ten reads while the fence is held', 5_000);
      expect(received).toEqual([]);
    } finally {
      release();
      await open;
    }
    // Soon after, unless a transaction of a parallel file holds the fence then: no tight deadline here.
    await waitFor(() => received.length === 1, "the event once the other database's transaction ends");
    expect(numbers(received)).toEqual([1]);
  });

  it('knows the head of the log across a digit boundary (positions compare as numbers, not text)', async () => {
    // Move the position sequence to just below a power of ten, then commit three events: 9…9, 10…0, 10…1.
    const [{ last }] = (await side.sql`select coalesce(max(position), 1) as last from es.events`) as unknown as [{ last: string }];
    const below = 10n ** BigInt(String(last).length + 1) - 2n;
    await side.sql`select setval('es.events_position_seq', ${String(below)})`;
    const { events } = await append(store, newId('prb'), 1, 2, 3);
    expect(events.map((event) => event.logPosition.position)).toEqual([below + 1n, below + 2n, below + 3n]);
    const head = await waitFor(async () => {
      const at = await relay.head();
      return compareLogPositions(at, events[2]!.logPosition) >= 0 ? at : undefined;
    }, 'the head to reach the newest event');
    expect(head).toEqual(events[2]!.logPosition);
  });

  it('tells its listeners when it stops', async () => {
    const stopping = new Relay({ db, listenUrl: url, pollMs: 60_000, logger: testLogger });
    await stopping.start();
    await waitFor(() => stopping.ready, 'the relay to be ready');
    let closes = 0;
    stopping.subscribe(
      () => undefined,
      () => closes++,
    );

    await stopping.stop();
    expect(closes).toBe(1);
    expect(stopping.closed).toBe(true);
    expect(stopping.ready).toBe(false);
  });

  it('keeps handing events to the other listeners when one throws', async () => {
    const id = newId('prb');
    let calls = 0;
    const unsubscribe = relay.subscribe(
      (batch) => {
        if (batch.some((event) => event.aggregateId === id)) {
          calls++;
          throw new Error('a faulty listener');
        }
      },
      () => undefined,
    );
    onTestFinished(unsubscribe);
    const received = listen(relay, [id]);

    await append(store, id, 1);
    await waitFor(() => calls > 0, 'the faulty listener to be called');
    await append(store, id, 2);
    await waitFor(() => received.length >= 2, 'both events for the healthy listener');
    expect(numbers(received)).toEqual([1, 2]);
    expect(relay.ready).toBe(true);
  });
});

describe('log subscription on the relay', () => {
  /** A type of its own per test, so the filter selects exactly this test's events. */
  const freshType = () => `Probe_${newId('t').slice(2, 12)}`;

  const appendTyped = (type: string, n: number) =>
    store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('prb'), aggregateType: type }, [{ type: 'Probed', data: { n } }], {
        expectedVersion: 0,
        metadata,
        occurredAt: new Date(),
      }),
    );

  /** The log through the relay, closed when the test ends. */
  const follow = (options: LogSubscriptionOptions) => {
    const events = subscribeToLog(relay, store, options);
    onTestFinished(async () => void (await within(events.return(undefined), 'the subscription to close')));
    return events;
  };

  const take = async (events: AsyncIterator<RecordedEvent>, count: number): Promise<RecordedEvent[]> => {
    const taken: RecordedEvent[] = [];
    while (taken.length < count) {
      const next = await within(events.next(), `event ${taken.length + 1} of ${count}`);
      if (next.done) throw new Error(`the subscription ended after ${taken.length} of ${count} events`);
      taken.push(next.value);
    }
    return taken;
  };

  it('hands over from the table to live events without a gap or a duplicate', async () => {
    const type = freshType();
    const start = relay.cursor;
    for (let n = 0; n < 5; n++) await appendTyped(type, n);
    await relay.settle();

    const events = follow({ aggregateType: type, after: start, pageSize: 2 });
    // Pulled once, it has read its first page from the table and waits at the first event.
    const first = await take(events, 1);
    for (let n = 5; n < 10; n++) await appendTyped(type, n);
    await relay.settle();

    const rest = await take(events, 9);
    expect(numbers([...first, ...rest])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectLogOrder([...first, ...rest]);
    // A duplicate left over from the hand-over would come before the next live event.
    await appendTyped(type, 10);
    expect(numbers(await take(events, 1))).toEqual([10]);
  });

  it('asks for its next page of the table while its reader still works through the current one', async () => {
    const type = freshType();
    const start = relay.cursor;
    let last: RecordedEvent | undefined;
    for (let n = 0; n < 5; n++) last = (await appendTyped(type, n)).events[0];
    // All five in the table behind the relay: none may come live (a transaction open anywhere in
    // the cluster can hold the fence, and `settle` then returns before the relay has them).
    await waitFor(() => compareLogPositions(relay.cursor, last!.logPosition) >= 0, 'the relay to pass the five events');
    const reads: number[] = [];
    const counting: EventStore = Object.assign(Object.create(store) as EventStore, {
      readLog: (options: Parameters<EventStore['readLog']>[0]) => {
        reads.push(performance.now());
        return store.readLog(options);
      },
    });
    const events = subscribeToLog(relay, counting, { aggregateType: type, after: start, pageSize: 2 });
    onTestFinished(async () => void (await within(events.return(undefined), 'the subscription to close')));

    // Holding the first event of the first page, it has asked for the second page already.
    expect(numbers(await take(events, 1))).toEqual([0]);
    expect(reads).toHaveLength(2);
    expect(numbers(await take(events, 4))).toEqual([1, 2, 3, 4]);
    // Pages 2 and 3; the short third page ends the catch-up, with no fourth read.
    expect(reads).toHaveLength(3);
  });

  it('reads the table without payloads when asked, and live events keep theirs', async () => {
    const type = freshType();
    const start = relay.cursor;
    const [first] = (await appendTyped(type, 0)).events;
    await waitFor(() => compareLogPositions(relay.cursor, first!.logPosition) >= 0, 'the relay to pass the event');
    const events = follow({ aggregateType: type, after: start, withoutPayload: true });
    const [fromTable] = await take(events, 1);
    expect(fromTable).toMatchObject({ type: 'Probed', aggregateType: type, version: 1 });
    expect(() => fromTable!.data).toThrow(/data was not read/);
    expect(() => fromTable!.metadata).toThrow(/metadata was not read/);
    await appendTyped(type, 1);
    expect(numbers(await take(events, 1))).toEqual([1]);
  });

  it('falls back to the table when a slow reader overflows its buffer', async () => {
    const type = freshType();
    const events = follow({ aggregateType: type, bufferLimit: 3, pageSize: 2 });
    const pending = events.next();
    await appendTyped(type, 0);
    expect((await within(pending, 'the first event')).value?.data.n).toBe(0);
    // The reader stops pulling while ten more arrive: more than its buffer holds.
    for (let n = 1; n <= 10; n++) await appendTyped(type, n);
    await relay.settle();

    const rest = await take(events, 10);
    expect(numbers(rest)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expectLogOrder(rest);
    await appendTyped(type, 11);
    expect(numbers(await take(events, 1))).toEqual([11]);
  });

  it('hands over what it holds a page at a time: a catch-up page, the rest of one, a live batch in turns', async () => {
    const type = freshType();
    const before = relay.cursor;
    await store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('prb'), aggregateType: type }, Array.from({ length: 12 }, (_, n) => ({ type: 'Probed', data: { n } })), {
        expectedVersion: 0,
        metadata,
        occurredAt: new Date(),
      }),
    );
    await relay.settle();
    const events = follow({ aggregateType: type, after: before, pageSize: 5 });
    const page = async () => {
      const step = await within(events[nextPage](), 'a page');
      if (step.done) throw new Error('the subscription ended');
      return numbers(step.value);
    };
    // From the table, a page as read; one event taken alone leaves the rest of its page.
    expect(await page()).toEqual([0, 1, 2, 3, 4]);
    expect(numbers(await take(events, 1))).toEqual([5]);
    expect(await page()).toEqual([6, 7, 8, 9]);
    expect(await page()).toEqual([10, 11]);

    // Live: a batch in pages of at most `eventsPerTurn`, in order.
    const waiting = events[nextPage]();
    await store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('prb'), aggregateType: type }, Array.from({ length: eventsPerTurn + 10 }, (_, n) => ({ type: 'Probed', data: { n: 12 + n } })), {
        expectedVersion: 0,
        metadata,
        occurredAt: new Date(),
      }),
    );
    const first = await within(waiting, 'the live batch');
    const live = first.done ? [] : numbers(first.value);
    expect(live.length).toBeLessThanOrEqual(eventsPerTurn);
    while (live.length < eventsPerTurn + 10) live.push(...(await page()));
    expect(live).toEqual(Array.from({ length: eventsPerTurn + 10 }, (_, n) => 12 + n));
  });

  it('cuts live pages within each relay batch, however far behind its reader is, so identical subscribers get identical pages', async () => {
    const type = freshType();
    const events = follow({ aggregateType: type });
    const waiting = events[nextPage]();
    const commit = (ns: readonly number[]) =>
      store.transaction((session) =>
        session.appendToStream({ aggregateId: newId('prb'), aggregateType: type }, ns.map((n) => ({ type: 'Probed', data: { n } })), {
          expectedVersion: 0,
          metadata,
          occurredAt: new Date(),
        }),
      );
    await commit([0]);
    const first = await within(waiting, 'the first batch');
    expect(first.done ? [] : numbers(first.value)).toEqual([0]);
    // Two commits, each read by the relay on its own, while the reader takes nothing.
    await commit([1, 2, 3]);
    await relay.settle();
    await commit([4, 5]);
    await relay.settle();
    const pages: unknown[][] = [];
    while (pages.flat().length < 5) {
      const step = await within(events[nextPage](), 'a page');
      if (!step.done) pages.push(numbers(step.value));
    }
    expect(pages).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('lets the event loop turn while it hands over a large live batch', async () => {
    const type = freshType();
    const events = follow({ aggregateType: type });
    const first = events.next();
    await store.transaction((session) =>
      session.appendToStream(
        { aggregateId: newId('prb'), aggregateType: type },
        Array.from({ length: 200 }, (_, n) => ({ type: 'Probed', data: { n } })),
        { expectedVersion: 0, metadata, occurredAt: new Date() },
      ),
    );
    expect((await within(first, 'the first event')).value?.data.n).toBe(0);
    await relay.settle(); // all 200 are in the subscriber's buffer now

    // Pulled back to back, the events come from memory; a macrotask queued now runs only if the
    // subscription lets the event loop turn on the way.
    let turned = false;
    setImmediate(() => (turned = true));
    let turnedAt: number | undefined;
    for (let n = 1; n < 200; n++) {
      const next = await events.next();
      expect(next.value?.data.n).toBe(n);
      if (turned) turnedAt ??= n;
    }
    expect(turnedAt).toBeDefined();
    expect(turnedAt).toBeLessThanOrEqual(eventsPerTurn + 1);
  });

  it('releases its relay listener when closed while waiting for events', async () => {
    const before = relay.listenerCount;
    const events = subscribeToLog(relay, store, { aggregateType: freshType() });
    const waiting = events.next();
    await waitFor(() => relay.listenerCount === before + 1, 'the subscription to listen');

    await within(events.return(undefined), 'the subscription to close');
    expect(relay.listenerCount).toBe(before);
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});
