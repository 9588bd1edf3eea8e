import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { oldestFenceHolder } from './lag.js';

export type FenceWatchOptions = {
  readonly db: Database;
  readonly logger: Logger;
  /** Warn when the oldest xid-holding transaction has been open longer than this. */
  readonly warnAfterMs: number;
};

/** Checks at most every 5 s, and often enough that a breach is seen soon after the threshold. */
const checkInterval = (warnAfterMs: number) => Math.min(5_000, Math.max(warnAfterMs, 20));

/**
 * Logs a warning while a transaction holds the commit-safe fence for longer than `warnAfterMs`:
 * every subscriber in the cluster waits for it. Returns a function that stops the watch.
 */
export const watchFence = (options: FenceWatchOptions): (() => Promise<void>) => {
  let timer: NodeJS.Timeout | null = null;
  let checking: Promise<void> = Promise.resolve();
  let stopped = false;

  const check = async () => {
    try {
      const holder = await oldestFenceHolder(options.db);
      if (holder && holder.ageMs > options.warnAfterMs) {
        options.logger.warn('a transaction holds the commit-safe fence; delivery waits for it', {
          pid: holder.pid,
          ageMs: Math.round(holder.ageMs),
          query: holder.query,
        });
      }
    } catch (error) {
      options.logger.debug('fence check failed', { error });
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      checking = check().finally(schedule);
    }, checkInterval(options.warnAfterMs));
    timer.unref();
  };

  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await checking;
  };
};
