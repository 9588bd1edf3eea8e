import type postgres from 'postgres';
import type { Logger } from '../logger.js';

export const eventsChannel = 'cairn_events';

/**
 * Rings the relay's doorbell after commit, outside the write transaction: a NOTIFY inside it
 * would serialise every committing writer on one lock. Rings that arrive while one is in
 * flight collapse into a single follow-up, so a burst of commits costs one or two NOTIFYs.
 * `payload` names the sender, so that its own relay (poked in process already) can ignore the echo.
 */
export const createNotifier = (sql: postgres.Sql, logger: Logger, payload = '') => {
  let inFlight = false;
  let again = false;

  const send = async (): Promise<void> => {
    do {
      again = false;
      try {
        await sql.notify(eventsChannel, payload);
      } catch (error) {
        logger.warn('NOTIFY failed; the relay safety poll will deliver', { error });
      }
    } while (again);
    inFlight = false;
  };

  return {
    ring(): void {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      void send();
    },
  };
};
