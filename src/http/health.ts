import type { ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import type { Services } from '../app.js';
import { processManagerHealth } from '../eventstore/process-manager-health.js';

export const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

/** `GET /ready`: the database answers, the relay listens and hears its probes. */
export const serveReadiness = async (services: Services, res: ServerResponse) => {
  const database = await services.db.execute(sql`select 1`).then(
    () => true,
    () => false,
  );
  const state = {
    ready: database && services.relay.ready,
    database,
    relay: services.relay.ready,
    listen: services.relay.listenHealthy,
  };
  json(res, state.ready ? 200 : 503, state);
};

export const processManagersHealthPath = '/health/process-managers';

/** 200 when every process manager is ok; 503 while one retries a failing trigger, has parked triggers or is stalled. */
export const serveProcessManagerHealth = async (services: Services, res: ServerResponse) => {
  try {
    const managers = await processManagerHealth(services.db, services.processManagers);
    const ok = managers.every((manager) => manager.status === 'ok');
    json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', managers });
  } catch (error) {
    services.logger.warn('process-manager health check failed', { error });
    json(res, 503, { status: 'unknown' });
  }
};
