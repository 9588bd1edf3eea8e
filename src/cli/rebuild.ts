/**
 * `npm run projections:rebuild -- <table>`: rebuilds one projection table from the event store
 * (see `rebuildViewProjection` in src/eventstore/rebuild.ts). Safe while servers are running.
 */
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { provideDatabase } from '../db/database.js';
import { rebuildables } from '../modules/index.js';

const projections = rebuildables();

const name = process.argv[2] ?? '';
const target = projections.get(name);
if (!target) {
  console.error(`usage: npm run projections:rebuild -- <${[...projections.keys()].join('|')}>`);
  process.exit(2);
}

const config = loadConfig();
const logger = createLogger(config.logLevel, { component: 'rebuild' });
// A script uses the embedded database a running server owns, and never stops it.
const database = await provideDatabase(config, logger, { role: 'script' });
try {
  const result = await target.rebuild(database.url, {
    preparedStatements: config.preparedStatements,
    onPage: ({ events, streams }) => logger.debug('page folded', { events, streams }),
  });
  logger.info('projection rebuilt', { projection: name, ...result });
} finally {
  await database.stop();
}
