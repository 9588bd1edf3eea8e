import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded.js';
import { runMigrations } from './migrate.js';

export type DatabaseServer = {
  readonly url: string;
  readonly embedded: boolean;
  stop(): Promise<void>;
};

/** `DATABASE_URL` when given; otherwise an embedded PostgreSQL under the data directory. Migrated either way. */
export const provideDatabase = async (
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  logger: Logger,
  options: { ownSignals?: boolean } = {},
): Promise<DatabaseServer> => {
  const server: DatabaseServer = config.databaseUrl
    ? { url: config.databaseUrl, embedded: false, stop: async () => undefined }
    : await startEmbeddedPostgres({ dataDir: config.dataDir, logger, ...options }).then((pg) => ({
        url: pg.url,
        embedded: true,
        stop: () => pg.stop(),
      }));
  try {
    await runMigrations(server.url);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
};
