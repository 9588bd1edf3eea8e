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

/**
 * Drizzle sends every query it did not `.prepare()` as an unnamed statement, and postgres.js then
 * needs two round trips for each (parse and describe, then bind and execute). Named, a statement
 * is parsed once per connection and every later run is one round trip: a command's nine
 * statements went from sixteen round trips to nine. Transactions get the same treatment.
 */
const namingStatements = (sql: postgres.Sql): postgres.Sql =>
  new Proxy(sql, {
    get(target, key, receiver) {
      if (key === 'unsafe') {
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...options, prepare: params !== undefined && params.length > 0 });
      }
      if (key === 'begin') {
        return (...args: unknown[]) => {
          const work = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return (target.begin as (...all: unknown[]) => unknown)(...args, (tx: postgres.TransactionSql) =>
            work(namingStatements(tx as never) as never),
          );
        };
      }
      if (key === 'savepoint') {
        return (...args: unknown[]) => {
          const work = args.pop() as (tx: postgres.TransactionSql) => unknown;
          return ((target as unknown as postgres.TransactionSql).savepoint as (...all: unknown[]) => unknown)(
            ...args,
            (tx: postgres.TransactionSql) => work(namingStatements(tx as never) as never),
          );
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });

export const connect = (
  url: string,
  options: { max?: number; applicationName?: string; prepare?: boolean } = {},
): Connection => {
  const client = postgres(url, {
    max: options.max ?? 20,
    // Off, postgres.js names none of its own statements either (its `commit`, above all): behind
    // PgBouncer in transaction mode a named statement reaches server connections that never
    // prepared it.
    prepare: options.prepare !== false,
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
    // Unnamed statements are for poolers that cannot keep them (PgBouncer in transaction mode).
    db: drizzle({ client: options.prepare === false ? client : namingStatements(client) }),
    close: () => client.end({ timeout: 5 }),
  };
};
