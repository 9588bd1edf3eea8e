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

/**
 * A goal the figure is held to (issue 16), and where this run stands: `met` is undefined when
 * the run could not tell (a part skipped, a cell that did not run).
 */
export type Goal = {
  readonly goal: string;
  /** The bar, e.g. `≥ 1.2×` or `< 50 ms`. */
  readonly target: string;
  /** This run's figure, as the report prints it. */
  readonly result: string;
  readonly met: boolean | undefined;
};

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
  /** The goals this figure measures, each beside this run's result (collected in the report's Goals table). */
  readonly goals?: readonly Goal[];
  /** Named values other figures or the summary need (e.g. `ceiling@8` → tx/s). */
  readonly values?: Readonly<Record<string, number>>;
};

/** A bench module: runs one or more figures on its own database and returns them. */
export type FigureRunner = (context: BenchContext) => Promise<readonly Figure[]>;
