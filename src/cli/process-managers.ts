/**
 * `npm run process-managers -- list` shows the triggers process managers parked after their
 * retries; `npm run process-managers -- retry [<manager>]` runs them again, oldest first (after
 * a fix was deployed, say). Safe while servers run: a retry takes the manager's lock per trigger.
 */
import { loadConfig } from '../config.js';
import { connect } from '../db/client.js';
import { provideDatabase } from '../db/database.js';
import { eventsChannel } from '../eventstore/notifier.js';
import { listParked, retryParked } from '../eventstore/parked-triggers.js';
import { PostgresEventStore } from '../eventstore/postgres-store.js';
import { createLogger } from '../logger.js';
import { processManagers as everyModulesProcessManagers } from '../modules/index.js';

const processManagers = everyModulesProcessManagers();

const [command = '', only] = process.argv.slice(2);
const usage = `usage: npm run process-managers -- list | retry [${processManagers.map((manager) => manager.name).join('|')}]`;
if (!['list', 'retry'].includes(command) || (only !== undefined && !processManagers.some((manager) => manager.name === only))) {
  console.error(usage);
  process.exit(2);
}

const config = loadConfig();
const logger = createLogger(config.logLevel, { component: 'process-managers' });
const database = await provideDatabase(config, logger);
const connection = connect(database.url, { max: 2, applicationName: 'cairn-process-managers-cli', prepare: config.preparedStatements });
try {
  if (command === 'list') {
    const parked = await listParked(connection.db, only);
    if (parked.length === 0) console.log('no parked triggers');
    for (const trigger of parked) {
      console.log(
        [
          trigger.consumer,
          trigger.eventId,
          trigger.eventType,
          `process ${trigger.process}`,
          trigger.failed ? `failed ${trigger.attempts}×: ${trigger.error}` : trigger.error,
          `parked ${trigger.parkedAt.toISOString()}`,
        ].join('  '),
      );
    }
  } else {
    // The servers' relays hear of what the retries commit through the usual doorbell.
    const store = new PostgresEventStore(connection.db, () => void connection.sql.notify(eventsChannel, '').catch(() => undefined));
    for (const manager of processManagers.filter((candidate) => only === undefined || candidate.name === only)) {
      const outcome = await retryParked(store, manager, { clock: () => new Date(), logger });
      console.log(`${manager.name}: ${outcome.handled} handled, ${outcome.failed} failed again, ${outcome.remaining} still parked`);
      if (outcome.remaining > 0) process.exitCode = 1;
    }
  }
} finally {
  await connection.close();
  await database.stop();
}
