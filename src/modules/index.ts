import type { ProcessManager } from '../eventstore/process-manager.js';

/** Every module's process managers, run by each server instance (one active cluster-wide). */
export const processManagers: readonly ProcessManager[] = [];
