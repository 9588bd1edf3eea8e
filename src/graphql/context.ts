import type { Database } from '../db/client.js';
import type { PostgresEventStore } from '../eventstore/postgres-store.js';
import type { ProcessManagerRunner } from '../eventstore/process-manager.js';
import type { Relay } from '../eventstore/relay.js';
import type { Logger } from '../logger.js';

/** What resolvers may use: the edges of the system, handed in by the server. */
export type Services = {
  readonly db: Database;
  readonly store: PostgresEventStore;
  readonly relay: Relay;
  readonly processManagers: ProcessManagerRunner;
  readonly logger: Logger;
  readonly clock: () => Date;
};

export type Context = {
  readonly services: Services;
  /** From the `x-correlation-id` header, when a client sends one. */
  readonly correlationId?: string;
};
