import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres, type Role } from './embedded.js';

export type DatabaseServer = {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
};

/**
 * `DATABASE_URL` when given; otherwise an embedded PostgreSQL under the data directory. Migrated
 * either way. A script (`role: 'script'`) uses the embedded database another cairn process runs
 * on that directory, and leaves it running; a server refuses to share one.
 */
export const provideDatabase = async (
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  logger: Logger,
  options: { ownSignals?: boolean; role?: Role } = {},
): Promise<DatabaseServer> => {
  // The migrator (Drizzle's, postgres.js) loads while the embedded database starts.
  const migrator = import('./migrate.js');
  migrator.catch(() => undefined);
  const server: DatabaseServer = config.databaseUrl
    ? { url: config.databaseUrl, embedded: false, stop: async () => undefined }
    : await startEmbeddedPostgres({ dataDir: config.dataDir, logger, ...options }).then((pg) => ({
        url: pg.url,
        embedded: true,
        stop: () => pg.stop(),
      }));
  try {
    await (await migrator).runMigrations(server.url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
};
