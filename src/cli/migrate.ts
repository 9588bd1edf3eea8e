/** `npm run db:migrate`: applies pending migrations to DATABASE_URL's database, or the embedded one. */
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { provideDatabase } from '../db/database.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
// A script uses the embedded database a running server owns, and never stops it.
const database = await provideDatabase(config, logger, { role: 'script' });
logger.info('migrations applied', { embedded: database.embedded });
await database.stop();
