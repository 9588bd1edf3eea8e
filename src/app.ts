import { connect } from './db/client.js';
import { watchFence } from './eventstore/fence-watch.js';
import { createNotifier } from './eventstore/notifier.js';
import { PostgresEventStore } from './eventstore/postgres-store.js';
import { ProcessManagerRunner, type ProcessManager } from './eventstore/process-manager.js';
import { Relay } from './eventstore/relay.js';
import type { Services } from './graphql/context.js';
import type { Logger } from './logger.js';
import { processManagers as allProcessManagers } from './modules/index.js';

export type App = {
  readonly services: Services;
  /** Stops process managers and relay, closes the pools (the database server is not ours to stop). */
  close(): Promise<void>;
};

/** Wires the edges together: pool, store, doorbell and relay. The database must be migrated. */
export const startApp = async (options: {
  databaseUrl: string;
  logger: Logger;
  relayPollMs: number;
  relayReadGapMs?: number;
  poolSize?: number;
  /** Named statements (one round trip per repeated query); false behind PgBouncer in transaction mode. */
  preparedStatements?: boolean;
  /** Live events held for one slow subscriber before it reads the table instead (10,000). */
  subscriberBuffer?: number;
  /** Log a warning while a transaction holds the commit-safe fence longer than this; absent: no watch. */
  fenceWarnMs?: number;
  /** Defaults to every module's; tests may run none or their own. */
  processManagers?: readonly ProcessManager[];
}): Promise<App> => {
  const prepare = options.preparedStatements ?? true;
  const connection = connect(options.databaseUrl, { ...(options.poolSize && { max: options.poolSize }), prepare });
  // Process managers get a small pool of their own, named so an operator can find it.
  const managerConnection = connect(options.databaseUrl, { max: 3, applicationName: 'cairn-process-managers', prepare });
  const relay = new Relay({
    db: connection.db,
    listenUrl: options.databaseUrl,
    pollMs: options.relayPollMs,
    logger: options.logger,
    ...(options.relayReadGapMs !== undefined && { readGapMs: options.relayReadGapMs }),
    ...(options.subscriberBuffer && { subscriberBuffer: options.subscriberBuffer }),
  });
  const notifier = createNotifier(connection.sql, options.logger, relay.doorbellPayload);
  const ringDoorbell = () => {
    relay.poke(); // this instance's subscribers need no round trip
    notifier.ring(); // other instances do
  };
  const store = new PostgresEventStore(connection.db, ringDoorbell);
  const clock = () => new Date();
  const processManagers = new ProcessManagerRunner({
    store: new PostgresEventStore(managerConnection.db, ringDoorbell),
    relay,
    managers: options.processManagers ?? allProcessManagers,
    clock,
    logger: options.logger,
    pollMs: options.relayPollMs,
  });
  const closeConnections = () => Promise.all([connection.close(), managerConnection.close()]);
  try {
    await relay.start();
    await processManagers.start();
  } catch (error) {
    await relay.stop();
    await closeConnections();
    throw error;
  }
  const stopFenceWatch =
    options.fenceWarnMs === undefined
      ? async () => undefined
      : watchFence({ db: connection.db, logger: options.logger, warnAfterMs: options.fenceWarnMs });
  return {
    services: { db: connection.db, store, relay, processManagers, logger: options.logger, clock },
    close: async () => {
      await stopFenceWatch();
      await processManagers.stop();
      await relay.stop();
      await closeConnections();
    },
  };
};
