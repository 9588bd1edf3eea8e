import { afterAll } from 'vitest';
import { inject } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { connect, type Connection } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { createGraphQLServer, type GraphQLServer } from '../../src/server.js';

export const databaseUrl = (): string => inject('databaseUrl');

export const testLogger = createLogger((process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent');

/** A pool on the test database, closed after the file's tests. */
export const useConnection = (options: { max?: number } = {}): Connection => {
  const connection = connect(databaseUrl(), options);
  afterAll(() => connection.close());
  return connection;
};

export type TestApp = App & { yoga: GraphQLServer };

/** The whole app (pool, store, relay) plus an in-process yoga, stopped after the file's tests. */
export const useApp = async (options: { relayPollMs?: number } = {}): Promise<TestApp> => {
  const app = await startApp({ databaseUrl: databaseUrl(), logger: testLogger, relayPollMs: options.relayPollMs ?? 250 });
  afterAll(() => app.close());
  return { ...app, yoga: createGraphQLServer(app.services) };
};
