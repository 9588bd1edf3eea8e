import type postgres from 'postgres';
import type { Logger } from '../logger.js';

export const eventsChannel = 'cairn_events';

/** What the doorbell has done since the start: NOTIFYs sent, and rings no other instance needed. */
export type DoorbellCounts = { readonly sent: number; readonly skipped: number };

/**
 * Rings the relay's doorbell after commit, outside the write transaction: a NOTIFY inside it
 * would serialise every committing writer on one lock. Rings that arrive while one is in
 * flight collapse into a single follow-up, so a burst of commits costs one or two NOTIFYs.
 * `payload` names the sender, so that its own relay (poked in process already) can ignore the echo.
 * With `needed`, a ring while it answers false sends nothing: no other instance listens.
 */
export const createNotifier = (sql: postgres.Sql, logger: Logger, payload = '', needed: () => boolean = () => true) => {
  let inFlight = false;
  let again = false;
  let sent = 0;
  let skipped = 0;

  const send = async (): Promise<void> => {
    do {
      again = false;
      try {
        sent += 1;
        await sql.notify(eventsChannel, payload);
      } catch (error) {
        logger.warn('NOTIFY failed; the relay safety poll will deliver', { error });
      }
    } while (again);
    inFlight = false;
  };

  return {
    ring(): void {
      if (!needed()) {
        skipped += 1;
        return;
      }
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      void send();
    },
    get sent() {
      return sent;
    },
    get skipped() {
      return skipped;
    },
  };
};
