import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { newId } from '../../src/eventstore/ids.js';
import { createGraphQLServer } from '../../src/server.js';
import { testLogger, useIsolatedDatabase } from '../helpers/app.js';
import { subscribeSse } from '../helpers/graphql.js';
import { introduce } from '../helpers/introduce.js';
import { waitFor, within } from '../helpers/wait.js';

/**
 * A commit's NOTIFY is for the other instances' relays (its own is poked in process); with none
 * listening it is a round trip and a wake-up of PostgreSQL per commit for no one. Instances know
 * of each other by the LISTEN check's probes, which every relay rings on the same channel.
 */
const database = await useIsolatedDatabase();
// Probes every 100 ms; the safety poll so slow that only a doorbell delivers within the test.
const instance = (): Promise<App> => startApp({ databaseUrl: database, logger: testLogger, relayPollMs: 60_000, listenCheckMs: 100, processManagers: [] });
const apps: App[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

const commit = (app: App, aggregateType: string) =>
  app.services.store.transaction((session) =>
    session.appendToStream({ aggregateId: newId('bel'), aggregateType }, [{ type: 'Rung', data: {} }], {
      expectedVersion: 0,
      metadata: { correlationId: 'cor', causationId: 'cmd' },
      occurredAt: new Date(),
    }),
  );

describe('the doorbell', () => {
  it('sends no NOTIFY while no other instance listens, and rings again as soon as one starts', async () => {
    const first = await instance();
    apps.push(first);
    const aggregateType = `Bell_${newId('t').slice(4, 12)}`;
    await introduce(first.services.store, aggregateType);
    // At first it cannot know: it rings until a few probe intervals have passed without another's probe.
    await waitFor(() => !first.services.relay.othersMayListen, 'the instance to find itself alone');
    const before = first.services.doorbell.sent;
    await commit(first, aggregateType);
    await commit(first, aggregateType);
    expect(first.services.doorbell.sent).toBe(before);
    expect(first.services.doorbell.skipped).toBeGreaterThanOrEqual(2);

    const second = await instance();
    apps.push(second);
    // The newcomer's first probe tells the first instance at once.
    await waitFor(() => first.services.relay.othersMayListen, 'the first instance to hear the second');
    const subscriber = await subscribeSse<{ events: { id: string } }>(createGraphQLServer(second.services), `subscription ($type: String!) { events(aggregateType: $type) { id } }`, {
      type: aggregateType,
    });
    try {
      const sentBefore = first.services.doorbell.sent;
      await commit(first, aggregateType);
      expect(first.services.doorbell.sent).toBeGreaterThan(sentBefore);
      // Only the first instance's NOTIFY can reach the second's relay within this time (its poll is a minute).
      const [event] = await within(subscriber.take(1), 'the event at the second instance', 10_000);
      expect(event!.data!.events.id).toMatch(/^evt_/);
    } finally {
      await subscriber.close();
    }
  });
});
