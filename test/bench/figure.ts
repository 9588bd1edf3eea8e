import type { Logger } from '../../src/logger.js';
import type { Target } from './target.js';

/** What every figure of `npm run bench` gets: a fresh migrated database of its own, and a logger. */
export type BenchContext = {
  readonly target: Target;
  readonly logger: Logger;
  /** Prints progress lines (to stderr) while a figure runs. */
  readonly progress: (line: string) => void;
};

/** One bar of the SVG chart: a throughput or latency the report wants to show at a glance. */
export type Bar = { readonly group: string; readonly label: string; readonly value: number; readonly unit: string };

/** One figure of the report: a titled table, its setup, and optionally bars for the chart. */
export type Figure = {
  /** Stable and short: `ceiling`, `kernel`, `http`, `peer`, `latency`, `catch-up`, `load-cost`, `rebuild`. */
  readonly id: string;
  readonly title: string;
  /** Setup lines: concurrency, event size, durations, durability settings… */
  readonly setup: readonly string[];
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
  /** What the numbers mean, where they fall short and why (profiling findings). */
  readonly notes?: readonly string[];
  readonly bars?: readonly Bar[];
  /** Named values other figures or the summary need (e.g. `ceiling@8` → tx/s). */
  readonly values?: Readonly<Record<string, number>>;
};

/** A bench module: runs one or more figures on its own database and returns them. */
export type FigureRunner = (context: BenchContext) => Promise<readonly Figure[]>;
