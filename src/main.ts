import { startApp } from './app.js';
import { loadConfig } from './config.js';
import { provideDatabase } from './db/database.js';
import { createLogger } from './logger.js';
import { createHttpServer, graphqlPath } from './server.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, { service: 'cairn' });
const startedAt = performance.now();

const database = await provideDatabase(config, logger, { ownSignals: true });
const app = await startApp({
  databaseUrl: database.url,
  logger,
  relayPollMs: config.relayPollMs,
  relayReadGapMs: config.relayReadGapMs,
  fenceWarnMs: config.fenceWarnMs,
  subscriberBuffer: config.subscriberBuffer,
  preparedStatements: config.preparedStatements,
}).catch(
  async (error: unknown) => {
    await database.stop();
    throw error;
  },
);
const http = createHttpServer(app.services);

http.server.listen(config.port, config.host, () => {
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('cairn is ready', {
    graphql: `http://localhost:${port}${graphqlPath}`,
    embeddedDatabase: database.embedded,
    startupMs: Math.round(performance.now() - startedAt),
  });
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 10_000);
  try {
    await http.close();
    await app.close();
    await database.stop();
  } catch (error) {
    logger.error('error during shutdown', { error });
  } finally {
    clearTimeout(force);
    process.exit(0);
  }
};

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
