import type { App } from './app.js';
import { loadConfig, type Config } from './config.js';
import { provideDatabase, type DatabaseServer } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import type { HttpServer } from './server.js';
import { databaseAddress, describeStartupFailure } from './startup-error.js';

/**
 * The GraphQL server's modules (graphql, yoga, the schema) take longer to load than the database
 * takes to start and migrate: they load while it does, instead of before it.
 */
const loadServer = () => Promise.all([import('./app.js'), import('./server.js'), import('./auth/authenticator.js')]);

type Running = { readonly database: DatabaseServer; readonly app: App; readonly http: HttpServer };

const listen = (http: HttpServer, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(port, host, () => {
      http.server.removeListener('error', reject);
      resolve();
    });
  });

/** Database, app, HTTP server; whatever had started is stopped again when a later step fails. */
const start = async (config: Config, logger: Logger, startedAt: number): Promise<Running> => {
  const loading = loadServer();
  loading.catch(() => undefined); // awaited below, once the database is up (or stopped on failure)
  const database = await provideDatabase(config, logger, { ownSignals: true });
  let app: App | undefined;
  let http: HttpServer | undefined;
  try {
    const [{ startApp }, { createHttpServer }, { createAuthenticator }] = await loading;
    app = await startApp({
      databaseUrl: database.url,
      ...(config.listenUrl !== undefined && { listenUrl: config.listenUrl }),
      listenCheckMs: config.listenCheckMs,
      ...(config.readUrl !== undefined && { readUrl: config.readUrl }),
      readWaitMs: config.readWaitMs,
      logger,
      relayPollMs: config.relayPollMs,
      relayReadGapMs: config.relayReadGapMs,
      fenceWarnMs: config.fenceWarnMs,
      subscriberBuffer: config.subscriberBuffer,
      preparedStatements: config.preparedStatements,
      processManagerRetry: config.processManagerRetry,
    });
    http = createHttpServer(app.services, {
      limits: config.limits,
      clientLimits: config.clientLimits,
      security: {
        authenticator: createAuthenticator(config.auth, logger),
        corsOrigins: config.corsOrigins,
        graphiql: config.graphiql,
        introspection: config.introspection,
      },
    });
    await listen(http, config.port, config.host);
    if (config.auth.mode === 'open') {
      logger.warn('authentication is off: anyone who reaches this port may read and write everything (set CAIRN_JWT_SECRET or CAIRN_JWKS_URL)');
    }
  } catch (error) {
    await http?.close();
    await app?.close();
    await database.stop();
    throw error;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('cairn is ready', {
    graphql: `http://localhost:${port}${(await loading)[1].graphqlPath}`,
    embeddedDatabase: database.embedded,
    startupMs: Math.round(performance.now() - startedAt),
  });
  return { database, app, http };
};

const startedAt = performance.now();
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  // Its messages name the variable and the value it refused.
  createLogger('error', { service: 'cairn' }).error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
const logger = createLogger(config.logLevel, { service: 'cairn' });

let running: Running | undefined;
let starting: Promise<unknown> = Promise.resolve();
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
    // A signal during start-up stops what it started; a start that fails has stopped it already.
    await starting.catch(() => undefined);
    await running?.http.close();
    await running?.app.close();
    await running?.database.stop();
  } catch (error) {
    logger.error('error during shutdown', { error });
  } finally {
    clearTimeout(force);
    process.exit(0);
  }
};

// Before start-up begins: the embedded database keeps the signal handlers it finds registered
// (and removes its library's), and a signal during start-up must stop what started.
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  starting = start(config, logger, startedAt).then((started) => (running = started));
  await starting;
} catch (error) {
  // One line, exit 1: everything it had started is stopped (see `start`).
  if (!stopping) {
    logger.error(describeStartupFailure(error, config.databaseUrl ? databaseAddress(config.databaseUrl) : 'the embedded PostgreSQL'));
    process.exit(1);
  }
}
