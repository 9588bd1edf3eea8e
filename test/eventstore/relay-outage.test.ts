import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { useApp, useIsolatedDatabase } from '../helpers/app.js';
import { appendNumbered } from '../helpers/numbered.js';
import { waitFor } from '../helpers/wait.js';

// This file blocks connections to its database, so it has one of its own.
const url = await useIsolatedDatabase();
// A safety poll too slow to matter here: only the doorbell and the reconnect can deliver.
const app = await useApp({ databaseUrl: url, relayPollMs: 60_000 });
const { relay } = app.services;
// Writes that ring no doorbell of their own (no local poke, no NOTIFY).
const store = new PostgresEventStore(app.services.db);
const name = new URL(url).pathname.slice(1);

const appendOne = (aggregateType: string, n: number) => store.transaction((session) => appendNumbered(session, aggregateType, n));

describe('relay through a database outage', () => {
  it('reconnects after more than pg-listen’s default 3 s of refused connections and delivers what was missed', async () => {
    const aggregateType = `Outage_${newId('t').slice(2, 12)}`;
    const received: RecordedEvent[] = [];
    const unsubscribe = relay.subscribe(
      (batch) => received.push(...batch.filter((event) => event.aggregateType === aggregateType)),
      () => undefined,
    );
    const admin = postgres(url.replace(`/${name}`, '/postgres'), { max: 1, onnotice: () => undefined });
    // NOTIFY reaches listeners of the same database only; this connection is opened before the outage.
    const ringer = postgres(url, { max: 1, onnotice: () => undefined });
    const ring = () => ringer`select pg_notify('cairn_events', '')`;
    try {
      await appendOne(aggregateType, 1);
      await ring();
      await waitFor(() => received.length === 1, 'the first event');

      // Refuse new connections to this database and cut the relay's LISTEN connection.
      await admin`alter database ${admin(name)} allow_connections false`;
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
                   where datname = ${name} and application_name = 'cairn-relay'`;
      await waitFor(() => !relay.ready, 'the relay to notice the lost connection');
      const outageStarted = Date.now();
      // Written during the outage through the pool's surviving connections; the doorbell rings for nobody.
      await appendOne(aggregateType, 2);
      await appendOne(aggregateType, 3);
      await ring();
      await waitFor(() => Date.now() - outageStarted > 3_500, 'an outage longer than 3 s', 5_000);
      expect(relay.ready).toBe(false);
      expect(received).toHaveLength(1);

      await admin`alter database ${admin(name)} allow_connections true`;
      await waitFor(() => relay.ready, 'the relay to reconnect', 15_000);
      // On reconnect the relay catches up from its cursor by itself.
      await waitFor(() => received.length === 3, 'the events written during the outage', 15_000);
      expect(received.map((event) => event.data.n)).toEqual([1, 2, 3]);

      // And LISTEN works again: a doorbell alone delivers the next event.
      await appendOne(aggregateType, 4);
      await ring();
      await waitFor(() => received.length === 4, 'a live event after the reconnect');
      expect(received.map((event) => event.data.n)).toEqual([1, 2, 3, 4]);
    } finally {
      unsubscribe();
      await admin`alter database ${admin(name)} allow_connections true`;
      await admin.end();
      await ringer.end();
    }
  });
});
