import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { useApp } from '../helpers/app.js';
import { execute, subscribeSse } from '../helpers/graphql.js';
import { introduce, introduced } from '../helpers/introduce.js';
import { appendNumbered } from '../helpers/numbered.js';
import { waitFor, within } from '../helpers/wait.js';

const app = await useApp({ relayPollMs: 100 });
const { store } = app.services;

const subscription = `subscription ($type: String!) { events(aggregateType: $type) { id position data } }`;

type Delivered = { events: { id: string; position: string; data: { n: number } } };

/** The whole log of one aggregate type through the `events` query, page by page. */
const readLog = async (aggregateType: string) => {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = await execute(
      app.yoga,
      `query ($type: String!, $after: String) { events(aggregateType: $type, after: $after, first: 100) {
         edges { node { id type } } pageInfo { hasNextPage endCursor } } }`,
      { type: aggregateType, after },
    );
    ids.push(...page.data.events.edges.filter((edge: { node: { type: string } }) => edge.node.type !== introduced).map((edge: { node: { id: string } }) => edge.node.id));
    if (!page.data.events.pageInfo.hasNextPage) return ids;
    after = page.data.events.pageInfo.endCursor;
  }
};

/**
 * An SSE subscription that is reading, and so listening to the relay, before the test writes:
 * what it gets comes through the relay's live path (its fence), not a catch-up read of the table.
 */
const live = async (aggregateType: string, count: number) => {
  await introduce(store, aggregateType);
  // "From now" is the relay's position: until it has read the introduction, a subscription from
  // now would start before it and take it as its first event (seen once in CI).
  await app.services.relay.settle();
  const before = app.services.relay.listenerCount;
  const sse = await subscribeSse<Delivered>(app.yoga, subscription, { type: aggregateType });
  const delivered = sse.take(count).then(async (payloads) => {
    await sse.close();
    return payloads.map((payload) => payload.data!.events);
  });
  await waitFor(() => app.services.relay.listenerCount > before, 'the subscription to listen to the relay');
  return { delivered };
};

describe('commit-safe ordering', () => {
  it('never skips an event whose transaction took its position first but committed last', async () => {
    const aggregateType = `Ordered_${newId('t').slice(2, 12)}`;
    const { delivered: first } = await live(aggregateType, 6);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let positioned!: () => void;
    const tookPosition = new Promise<void>((resolve) => (positioned = resolve));
    // Writer A takes the smallest position, then holds its transaction open.
    const slow = store.transaction(async (session) => {
      await appendNumbered(session, aggregateType, 0);
      positioned();
      await gate;
    });
    await tookPosition;
    // Writers B commit meanwhile, with larger positions.
    for (let n = 1; n <= 5; n++) await store.transaction((session) => appendNumbered(session, aggregateType, n));
    // While A is open, nothing of B may be delivered: a reader that moved past B would skip A.
    await app.services.relay.settle();
    expect(await readLog(aggregateType)).toEqual([]);
    release();
    await slow;
    const delivered = await within(first, "all six events, the held one first");
    expect(delivered.map((event) => event.data.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(delivered.map((event) => event.id)).toEqual(await readLog(aggregateType));
  });

  it('delivers every event exactly once, in log order, under concurrent writers that commit out of order', async () => {
    const aggregateType = `Ordered_${newId('t').slice(2, 12)}`;
    const writers = 8;
    const perWriter = 20;
    const { delivered: all } = await live(aggregateType, writers * perWriter);
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let i = 0; i < perWriter; i++) {
          await store.transaction(async (session) => {
            await appendNumbered(session, aggregateType, writer * perWriter + i);
            // Hold the position a random while before committing, so commits overtake each other.
            await session.tx.execute(sql`select pg_sleep(${Math.random() * 0.01})`);
          });
        }
      }),
    );
    const delivered = await all;
    const ids = delivered.map((event) => event.id);
    expect(new Set(ids).size).toBe(writers * perWriter);
    expect(ids).toEqual(await readLog(aggregateType));
    expect(new Set(delivered.map((event) => event.data.n))).toEqual(
      new Set(Array.from({ length: writers * perWriter }, (_, n) => n)),
    );
  });
});
