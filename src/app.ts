import { connect, type Database } from './db/client.js';
import { createReadPath } from './db/read-path.js';
import { watchFence } from './eventstore/fence-watch.js';
import { createNotifier, type DoorbellCounts } from './eventstore/notifier.js';
import { PostgresEventStore } from './eventstore/postgres-store.js';
import { ProcessManagerRunner, type ProcessManager } from './eventstore/process-manager.js';
import { Relay } from './eventstore/relay.js';
import type { ResolverServices } from './graphql/context.js';
import type { Logger } from './logger.js';
import { processManagers as everyModulesProcessManagers } from './modules/index.js';

/** The edges of the system the app wires together; resolvers get a part of them (`ResolverServices`). */
export type Services = ResolverServices & {
  /** The primary's pool: metrics, health and readiness read it. */
  readonly db: Database;
  readonly processManagers: ProcessManagerRunner;
  /** The NOTIFYs sent after commits, and the commits that needed none (no other instance listened). */
  readonly doorbell: DoorbellCounts;
};

export type App = {
  readonly services: Services;
  /** Stops process managers and relay, closes the pools (the database server is not ours to stop). */
  close(): Promise<void>;
};

/** Wires the edges together: pool, store, doorbell and relay. The database must be migrated. */
export const startApp = async (options: {
  databaseUrl: string;
  /** A direct connection for the relay's LISTEN (a transaction pooler drops notifications); default `databaseUrl`. */
  listenUrl?: string;
  /** How often the LISTEN connection must hear a probe back (5 s). */
  listenCheckMs?: number;
  /** A read replica for queries; absent: queries read the primary. */
  readUrl?: string;
  /** How long a query with a read-your-writes token waits for the replica before it reads the primary (250 ms). */
  readWaitMs?: number;
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
  /** Attempts at a failing trigger before it is parked, and the first backoff (doubling). */
  processManagerRetry?: { readonly maxAttempts: number; readonly backoffMs: number };
}): Promise<App> => {
  const prepare = options.preparedStatements ?? true;
  const connection = connect(options.databaseUrl, { ...(options.poolSize && { max: options.poolSize }), prepare });
  const readConnection = options.readUrl === undefined ? undefined : connect(options.readUrl, { applicationName: 'cairn-read', prepare });
  const read = createReadPath({
    primary: connection.db,
    ...(readConnection && { replica: readConnection.db }),
    waitMs: options.readWaitMs ?? 250,
  });
  // Process managers get a small pool of their own, named so an operator can find it.
  const managerConnection = connect(options.databaseUrl, { max: 3, applicationName: 'cairn-process-managers', prepare });
  const relay = new Relay({
    db: connection.db,
    listenUrl: options.listenUrl ?? options.databaseUrl,
    ...(options.listenCheckMs !== undefined && { listenCheckMs: options.listenCheckMs }),
    pollMs: options.relayPollMs,
    logger: options.logger,
    ...(options.relayReadGapMs !== undefined && { readGapMs: options.relayReadGapMs }),
    ...(options.subscriberBuffer && { subscriberBuffer: options.subscriberBuffer }),
  });
  // Other instances need a NOTIFY; with none listening it would be a round trip per commit for no one.
  const notifier = createNotifier(connection.sql, options.logger, relay.doorbellPayload, () => relay.othersMayListen);
  const ringDoorbell = () => {
    relay.poke(); // this instance's subscribers need no round trip
    notifier.ring(); // other instances do
  };
  const store = new PostgresEventStore(connection.db, ringDoorbell);
  const clock = () => new Date();
  const processManagers = new ProcessManagerRunner({
    store: new PostgresEventStore(managerConnection.db, ringDoorbell),
    relay,
    managers: options.processManagers ?? everyModulesProcessManagers(),
    clock,
    logger: options.logger,
    pollMs: options.relayPollMs,
    ...options.processManagerRetry,
  });
  const closeConnections = () => Promise.all([connection.close(), managerConnection.close(), readConnection?.close()]);
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
    services: { db: connection.db, store, read, relay, processManagers, logger: options.logger, clock, doorbell: notifier },
    close: async () => {
      await stopFenceWatch();
      await processManagers.stop();
      await relay.stop();
      await closeConnections();
    },
  };
};
