import type { Logger } from '../logger.js';

/**
 * Proves that the relay's LISTEN connection hears the database. Behind a transaction pooler
 * (PgBouncer) LISTEN is accepted and then hears nothing: the relay would fall back to its safety
 * poll without a word, and deliveries would take up to a second. So every `intervalMs` the
 * relay rings a probe through the write pool, and the LISTEN connection must hear it back
 * before the next one; while it does not, the check is unhealthy (`/ready` answers 503).
 */
export type ListenCheck = {
  /** True when `payload` is a probe (this relay's or another instance's): not a doorbell. */
  heard(payload: string): boolean;
  readonly healthy: boolean;
  /** Probes not heard back within their interval. */
  readonly missed: number;
  /**
   * Whether another instance's relay may be listening: true until three intervals have passed
   * since the start without another relay's probe (every relay rings one per interval on the
   * same channel), true for three intervals after one, and true while this check hears nothing.
   */
  readonly othersMayListen: boolean;
  /** Rings the first probe and waits up to one interval to hear it. */
  start(): Promise<void>;
  stop(): void;
};

const marker = ':probe:';

export const createListenCheck = (options: {
  /** Unique to this relay, so that it knows its own probes. */
  readonly id: string;
  readonly intervalMs: number;
  /** Sends a NOTIFY with this payload through the write path. */
  readonly send: (payload: string) => Promise<void>;
  readonly logger: Logger;
}): ListenCheck => {
  const prefix = `${options.id}${marker}`;
  let healthy = true;
  let missed = 0;
  /** Another relay's probe goes unheard for this long before this instance counts itself alone. */
  const othersForgottenMs = 3 * options.intervalMs;
  let startedAt = Infinity;
  let othersHeardAt = -Infinity;
  let next = 1;
  let outstanding: { readonly n: number; readonly sentAt: number } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;

  const setHealthy = (value: boolean) => {
    if (value === healthy) return;
    healthy = value;
    if (value) options.logger.info('the relay hears its LISTEN connection again');
    else {
      options.logger.warn(
        'the relay LISTEN connection hears nothing: deliveries fall back to the safety poll; behind a transaction pooler, set CAIRN_LISTEN_URL to a direct connection',
        { probeIntervalMs: options.intervalMs },
      );
    }
  };

  const ring = async () => {
    const n = next++;
    // Outstanding before it is sent: the LISTEN connection often hears it before `send` returns.
    const probe = { n, sentAt: performance.now() };
    outstanding = probe;
    try {
      await options.send(`${prefix}${n}`);
    } catch {
      // The database is away: the relay's own health says so; this check is about LISTEN.
      if (outstanding === probe) outstanding = null;
    }
  };

  const tick = async () => {
    if (outstanding && performance.now() - outstanding.sentAt >= options.intervalMs) {
      missed += 1;
      outstanding = null;
      setHealthy(false);
    }
    if (!outstanding) await ring();
  };

  return {
    heard(payload) {
      if (!payload.includes(marker)) return false;
      if (!payload.startsWith(prefix)) othersHeardAt = performance.now();
      else {
        const n = Number(payload.slice(prefix.length));
        if (outstanding && n >= outstanding.n) outstanding = null;
        setHealthy(true);
        wake?.();
      }
      return true;
    },
    get healthy() {
      return healthy;
    },
    get missed() {
      return missed;
    },
    get othersMayListen() {
      const now = performance.now();
      return !healthy || now - startedAt < othersForgottenMs || now - othersHeardAt < othersForgottenMs;
    },
    async start() {
      startedAt = performance.now();
      const heardBack = new Promise<void>((resolve) => (wake = resolve));
      await ring();
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([heardBack, new Promise<void>((resolve) => (waited = setTimeout(resolve, options.intervalMs)))]);
      clearTimeout(waited);
      wake = null;
      await tick();
      timer = setInterval(() => void tick(), options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
};
