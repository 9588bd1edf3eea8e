import { connect } from './db/client.js';
import { createNotifier } from './eventstore/notifier.js';
import { PostgresEventStore } from './eventstore/postgres-store.js';
import { Relay } from './eventstore/relay.js';
import type { Services } from './graphql/context.js';
import type { Logger } from './logger.js';

export type App = {
  readonly services: Services;
  /** Stops the relay and closes the pool (the database server itself is not ours to stop). */
  close(): Promise<void>;
};

/** Wires the edges together: pool, store, doorbell and relay. The database must be migrated. */
export const startApp = async (options: {
  databaseUrl: string;
  logger: Logger;
  relayPollMs: number;
  poolSize?: number;
}): Promise<App> => {
  const connection = connect(options.databaseUrl, { ...(options.poolSize && { max: options.poolSize }) });
  const relay = new Relay({
    db: connection.db,
    listenUrl: options.databaseUrl,
    pollMs: options.relayPollMs,
    logger: options.logger,
  });
  const notifier = createNotifier(connection.sql, options.logger);
  const store = new PostgresEventStore(connection.db, () => {
    relay.poke(); // this instance's subscribers need no round trip
    notifier.ring(); // other instances do
  });
  try {
    await relay.start();
  } catch (error) {
    await connection.close();
    throw error;
  }
  return {
    services: { db: connection.db, store, relay, logger: options.logger, clock: () => new Date() },
    close: async () => {
      await relay.stop();
      await connection.close();
    },
  };
};
