import { percentile } from './target.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type OpenLoopResult = {
  /** Writes acknowledged. */
  readonly acknowledged: number;
  readonly failures: number;
  readonly firstFailure?: string;
  /** The window, or longer when the last writes were acknowledged after it. */
  readonly elapsedMs: number;
  /** How late the schedule's most delayed write started. */
  readonly maxLateMs: number;
  /** Writes of the schedule not started by the end of the window. */
  readonly skipped: number;
  readonly commitP50: number;
  readonly commitP99: number;
  /** This process's CPU time over the window, in ms. */
  readonly cpuMs: number;
};

/**
 * Open loop: write i starts at `i × intervalMs` whatever the earlier ones are doing (up to
 * `maxInFlight`), so a slow commit does not thin out the load that follows it. The window is
 * fixed: a writer that cannot keep up writes less, not for longer. `onCommit` gets each write's
 * value and its acknowledgement time in this process's clock (`performance.timeOrigin + now`).
 */
export const runOpenLoop = async <T>(options: {
  readonly intervalMs: number;
  readonly durationMs: number;
  readonly maxInFlight: number;
  readonly write: () => Promise<T>;
  readonly onCommit: (value: T, at: number) => void;
}): Promise<OpenLoopResult> => {
  const { intervalMs, durationMs, maxInFlight } = options;
  const cpu = process.cpuUsage();
  const total = Math.max(1, Math.round(durationMs / intervalMs));
  const inFlight = new Set<Promise<void>>();
  const commitMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let maxLateMs = 0;
  let skipped = 0;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const begun = performance.now();
    if (begun - started >= durationMs) {
      skipped = total - i;
      break;
    }
    maxLateMs = Math.max(maxLateMs, begun - due);
    const write: Promise<void> = options.write().then(
      (value) => {
        const acknowledged = performance.now();
        commitMs.push(acknowledged - begun);
        options.onCommit(value, performance.timeOrigin + acknowledged);
      },
      (error: unknown) => {
        failures += 1;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      },
    );
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
  }
  await Promise.all(inFlight);
  const sorted = Float64Array.from(commitMs).sort();
  const used = process.cpuUsage(cpu);
  return {
    acknowledged: commitMs.length,
    failures,
    ...(firstFailure !== undefined && { firstFailure }),
    elapsedMs: Math.max(performance.now() - started, durationMs),
    maxLateMs,
    skipped,
    commitP50: percentile(sorted, 50),
    commitP99: percentile(sorted, 99),
    cpuMs: (used.user + used.system) / 1_000,
  };
};
