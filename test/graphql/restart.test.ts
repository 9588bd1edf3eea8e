import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../src/db/client.js';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { freePort } from '../../src/free-port.js';
import { followEvents, type LogEvent } from '../client/client.js';
import { databaseUrl, serveAppOnPort, testLogger } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A graceful restart as a deploy does it: the server stops, commits go on meanwhile, a new
 * server starts on the same port. The real graphql-sse and graphql-ws clients must see a lost
 * connection (not the end of their subscription), reconnect, and resume from their cursor: the
 * typed client's `followEvents` (test/client/), which keeps the last position it delivered in
 * the request both clients send again when they reconnect.
 */
const type = `Restarted_${newId('t').slice(2, 12)}`;
const connection = connect(databaseUrl(), { max: 2 });
afterAll(() => connection.close());
const store = new PostgresEventStore(connection.db);

const append = async (count: number) => {
  for (let n = 0; n < count; n++) {
    await store.transaction((session) =>
      session.appendToStream({ aggregateId: newId('rs'), aggregateType: 'Restart' }, [{ type, data: {} }], {
        expectedVersion: 0,
        metadata: { correlationId: 'c', causationId: 'c' },
        occurredAt: new Date(),
      }),
    );
  }
};

const port = await freePort();

const start = () => serveAppOnPort(port, { databaseUrl: databaseUrl(), logger: testLogger, relayPollMs: 100, processManagers: [] });

describe('a graceful restart', () => {
  it('looks like a lost connection to graphql-sse and graphql-ws clients: they reconnect and resume, every event once, in order', async () => {
    let running = await start();
    await append(5); // before anyone subscribes: a filter names types the log knows, and they resume from the start
    const quickRetry = () => new Promise<void>((resolve) => setTimeout(resolve, 50));
    let sseReconnects = 0;
    const sse = createSseClient({
      url: `http://127.0.0.1:${port}/graphql`,
      retryAttempts: 100,
      retry: quickRetry,
      on: { connected: (reconnected) => void (reconnected && sseReconnects++) },
    });
    // graphql-ws retries only close events by default; while no server listens, the connect
    // fails with an error event (ECONNREFUSED), so a client that outlives restarts retries all.
    const ws = createWsClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 100,
      retryWait: quickRetry,
      shouldRetry: () => true,
    });
    afterAll(() => {
      sse.dispose();
      return ws.dispose();
    });
    let wsConnections = 0;
    ws.on('connected', () => void wsConnections++);
    const ended: string[] = [];
    const sseClient = { seen: [] as LogEvent[] };
    const wsClient = { seen: [] as LogEvent[] };
    const filter = { types: [type] };
    followEvents(sse, { filter }, (event) => sseClient.seen.push(event), (error) => void ended.push(`sse error ${String(error)}`));
    followEvents(ws, { filter }, (event) => wsClient.seen.push(event), (error) => void ended.push(`ws error ${JSON.stringify(error)}`));

    await waitFor(() => sseClient.seen.length === 5 && wsClient.seen.length === 5, 'the first five events on both clients');
    await running.stop();
    await append(5); // committed while no server runs
    running = await start();
    await append(5);
    await waitFor(() => sseClient.seen.length >= 15 && wsClient.seen.length >= 15, 'all fifteen events on both clients', 20_000);
    await running.app.services.relay.settle();

    const log = (await store.readLog({ types: [type], limit: 100 })).map((event) => event.id);
    expect(log).toHaveLength(15);
    expect(sseClient.seen.map((event) => event.id)).toEqual(log);
    expect(wsClient.seen.map((event) => event.id)).toEqual(log);
    expect(ended).toEqual([]);
    expect(sseReconnects).toBeGreaterThanOrEqual(1);
    expect(wsConnections).toBeGreaterThanOrEqual(2);
    await running.stop();
  });
});
