import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { createGraphQLServer } from '../../src/server.js';
import { databaseUrl, testLogger } from '../helpers/app.js';
import { execute, subscribeSse } from '../helpers/graphql.js';
import { introduce, introduced } from '../helpers/introduce.js';
import { within } from '../helpers/wait.js';

// Three server instances on one database, as an operator would run them.
const instances: App[] = [];
for (let n = 0; n < 3; n++) {
  instances.push(await startApp({ databaseUrl: databaseUrl(), logger: testLogger, relayPollMs: 250 }));
}
afterAll(() => Promise.all(instances.map((app) => app.close())));
const yogas = instances.map((app) => createGraphQLServer(app.services));

const subscription = `subscription ($type: String!) { events(aggregateType: $type) { id } }`;

/** The whole log of one aggregate type through the `events` query of one instance. */
const logOf = async (instance: number, aggregateType: string) => {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: any = await execute(
      yogas[instance]!,
      `query ($type: String!, $after: String) { events(aggregateType: $type, after: $after, first: 500) {
         edges { node { id type } } pageInfo { hasNextPage endCursor } } }`,
      { type: aggregateType, after },
    );
    ids.push(...page.data.events.edges.filter((edge: { node: { type: string } }) => edge.node.type !== introduced).map((edge: { node: { id: string } }) => edge.node.id));
    if (!page.data.events.pageInfo.hasNextPage) return ids;
    after = page.data.events.pageInfo.endCursor;
  }
};

describe('three instances, one database', () => {
  it('deliver every event written through any instance to subscribers on every instance, in one order', async () => {
    const aggregateType = `Multi_${newId('t').slice(2, 12)}`;
    const writers = 64;
    const perWriter = 4;
    const total = writers * perWriter;
    await introduce(instances[0]!.services.store, aggregateType);
    // Subscriptions start from each relay's position: each must have read the introduction first.
    await Promise.all(instances.map((app) => app.services.relay.settle()));
    const subscribers = await Promise.all(yogas.map((yoga) => subscribeSse(yoga, subscription, { type: aggregateType })));
    try {
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          const { store } = instances[writer % instances.length]!.services;
          for (let i = 0; i < perWriter; i++) {
            await store.transaction(async (session) => {
              await session.appendToStream(
                { aggregateId: newId('mul'), aggregateType },
                [{ type: 'Written', data: { writer, i } }],
                { expectedVersion: 0, metadata: { correlationId: 'cor', causationId: 'cmd' }, occurredAt: new Date() },
              );
              // Let commits overtake each other.
              await session.tx.execute(sql`select pg_sleep(${Math.random() * 0.005})`);
            });
          }
        }),
      );
      const delivered = await Promise.all(
        subscribers.map(async (sse) =>
          (await within(sse.take(total), `${total} events`, 20_000)).map((payload) => payload.data!.events.id as string),
        ),
      );
      const log = await logOf(0, aggregateType);
      expect(log).toHaveLength(total);
      expect(new Set(log).size).toBe(total);
      for (const ids of delivered) expect(ids).toEqual(log);
      expect(await logOf(2, aggregateType)).toEqual(log);
    } finally {
      await Promise.all(subscribers.map((sse) => sse.close()));
    }
  });
});
