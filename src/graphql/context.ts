import type { Principal } from '../auth/principal.js';
import type { ReadPath, Reader } from '../db/read-path.js';
import type { PostgresEventStore } from '../eventstore/postgres-store.js';
import type { Relay } from '../eventstore/relay.js';
import type { Logger } from '../logger.js';

/** What resolvers may use, and no more: the app hands the server a superset (see `Services` in app.ts). */
export type ResolverServices = {
  /** The primary: commands and cursor validation. */
  readonly store: PostgresEventStore;
  /** Where queries read: the replica when there is one, else the primary. */
  readonly read: ReadPath;
  readonly relay: Relay;
  readonly logger: Logger;
  readonly clock: () => Date;
};

export type Context = {
  readonly services: ResolverServices;
  /** Who asks: the verified token's subject and scopes (everything when the server runs open). */
  readonly principal: Principal;
  /** Names this request in logs: the client's `x-request-id` (when it is a plain token), else a fresh one. */
  readonly requestId: string;
  /** From the `x-correlation-id` header, when a client sends one. */
  readonly correlationId?: string;
  /** The read-your-writes token the client sent back (`cairn-read-after`), if any. */
  readonly readAfter?: string;
  /** Where this request's queries read, chosen once per request (after waiting for `readAfter`). */
  read(): Promise<Reader>;
};
