import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { databaseUrl, testLogger, useApp, useHttpServer } from '../helpers/app.js';
import { usePgBouncer } from '../helpers/pgbouncer.js';

// LISTEN through PgBouncer in transaction mode is accepted and hears nothing; CAIRN_LISTEN_URL
// (the `listenUrl` option) gives the relay a direct connection.
const pooler = await usePgBouncer();
const pooledOnly = await startApp({
  databaseUrl: pooler.url,
  preparedStatements: false,
  listenCheckMs: 200,
  logger: testLogger,
  relayPollMs: 60_000,
  processManagers: [],
});
afterAll(() => pooledOnly.close());
const listeningDirectly = await useApp({ databaseUrl: pooler.url, listenUrl: databaseUrl(), preparedStatements: false, relayPollMs: 60_000 });
const [deaf, healthy] = await Promise.all([useHttpServer(pooledOnly), useHttpServer(listeningDirectly)]);

describe('the relay behind PgBouncer in transaction mode', () => {
  it('is not ready while it listens through the pooler, and is with a direct LISTEN connection', async () => {
    const notReady = await fetch(`${deaf.base}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ database: true, listen: false });
    const ready = await fetch(`${healthy.base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, listen: true });
  });
});
