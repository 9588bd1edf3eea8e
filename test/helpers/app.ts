import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, inject } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { connect, type Connection } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import type { ProcessManager } from '../../src/eventstore/process-manager.js';
import { createLogger } from '../../src/logger.js';
import {
  createGraphQLServer,
  createHttpServer,
  type ConnectionTimeouts,
  type GraphQLServer,
  type HttpServer,
} from '../../src/server.js';

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
export const useApp = async (
  options: {
    relayPollMs?: number;
    databaseUrl?: string;
    listenUrl?: string;
    preparedStatements?: boolean;
    processManagers?: readonly ProcessManager[];
    subscriberBuffer?: number;
  } = {},
): Promise<TestApp> => {
  const app = await startApp({
    databaseUrl: options.databaseUrl ?? databaseUrl(),
    logger: testLogger,
    relayPollMs: options.relayPollMs ?? 250,
    ...(options.listenUrl && { listenUrl: options.listenUrl }),
    ...(options.preparedStatements !== undefined && { preparedStatements: options.preparedStatements }),
    ...(options.processManagers && { processManagers: options.processManagers }),
    ...(options.subscriberBuffer && { subscriberBuffer: options.subscriberBuffer }),
  });
  afterAll(() => app.close());
  return { ...app, yoga: createGraphQLServer(app.services) };
};

/** An empty database of its own on the test server (not migrated), dropped after the file. */
export const useEmptyDatabase = async (): Promise<string> => {
  const base = new URL(databaseUrl());
  const name = `${base.pathname.slice(1)}_iso_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => undefined });
  await admin`create database ${admin(name)}`;
  afterAll(async () => {
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end();
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * A database of its own, migrated, dropped after the file: for tests that must disturb a
 * database (block its connections) without disturbing the files running beside them.
 */
export const useIsolatedDatabase = async (): Promise<string> => {
  const url = await useEmptyDatabase();
  await runMigrations(url);
  return url;
};

export type TestHttp = { readonly http: HttpServer; readonly base: string; readonly port: number };

/** The real HTTP server on a free loopback port, closed after the file's tests. */
export const useHttpServer = async (app: Pick<App, 'services'>, timeouts?: ConnectionTimeouts): Promise<TestHttp> => {
  const http = createHttpServer(app.services, { ...(timeouts && { timeouts }) });
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  afterAll(() => http.close());
  const port = (http.server.address() as AddressInfo).port;
  return { http, port, base: `http://127.0.0.1:${port}` };
};

export type ServedApp = { readonly app: App; readonly http: HttpServer; stop(): Promise<void> };

/**
 * An app and its HTTP server on a given port, for a test that stops a server and starts another
 * where its clients expect it (a restart): `stop` closes the server, then the app.
 */
export const serveAppOnPort = async (port: number, options: Parameters<typeof startApp>[0]): Promise<ServedApp> => {
  const app = await startApp(options);
  const http = createHttpServer(app.services);
  await new Promise<void>((resolve) => http.server.listen(port, '127.0.0.1', resolve));
  return {
    app,
    http,
    stop: async () => {
      await http.close();
      await app.close();
    },
  };
};
