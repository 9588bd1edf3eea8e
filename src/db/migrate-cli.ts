import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { provideDatabase } from './database.js';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = await provideDatabase(config, logger);
logger.info('migrations applied', { embedded: database.embedded });
await database.stop();
