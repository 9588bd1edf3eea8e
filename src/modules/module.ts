import type { ProcessManager } from '../eventstore/process-manager.js';
import type { Rebuildable } from '../eventstore/rebuild.js';

/**
 * What the app needs to know of one module, listed once in `src/modules/index.ts`: the schema,
 * the rebuild command and the process-manager runner read it from there. (drizzle-kit finds
 * its tables in `src/modules/<name>/projection.ts` by itself.)
 */
export type Module = {
  readonly name: string;
  /** Projections the rebuild command can refold from the log (`rebuildable(...)`). */
  readonly projections: readonly Rebuildable[];
  readonly processManagers?: readonly ProcessManager[];
  /** Registers its GraphQL types and fields; imported only when the schema is built (scripts need no GraphQL). */
  readonly graphql: () => Promise<unknown>;
};
