import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

export type Database = PostgresJsDatabase;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Anything that runs queries: the pool or an open transaction. */
export type Executor = Database | Transaction;

export type Connection = {
  readonly sql: postgres.Sql;
  readonly db: Database;
  close(): Promise<void>;
};

export const connect = (url: string, options: { max?: number; applicationName?: string } = {}): Connection => {
  const client = postgres(url, {
    max: options.max ?? 20,
    onnotice: () => undefined,
    // No custom array types to parse; and its query on connect could reject unhandled when a
    // connection is killed while opening.
    fetch_types: false,
    // The default reconnect delay grows with the pool's failed connects to 10–20 s, and a query
    // handed to a connection that failed during an outage waits it out even after the server is
    // back: after a restart, some writes waited 10–20 s for a server that was up. Retry within 1 s.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
    connection: { application_name: options.applicationName ?? 'cairn' },
  });
  return {
    sql: client,
    db: drizzle({ client }),
    close: () => client.end({ timeout: 5 }),
  };
};
