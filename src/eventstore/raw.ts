import type postgres from 'postgres';
import type { Executor } from '../db/client.js';

/**
 * The postgres.js client under a Drizzle pool or transaction. Building a statement with Drizzle
 * took a fifth of the Node CPU of a command; the hot path sends statements whose text is built
 * once, on the same connection and in the same transaction as Drizzle's.
 */
const clientOf = (db: Executor): postgres.Sql => (db as unknown as { session: { client: postgres.Sql } }).session.client;

/**
 * Sends `text` (parameters `$1`…) now and resolves with its rows. Named, each connection parses
 * it once (unnamed when the pool does not prepare: behind PgBouncer in transaction mode). Statements
 * sent one after another without waiting go out in one write and come back in one round trip.
 */
export const send = <Row extends object>(db: Executor, text: string, params: readonly unknown[]): Promise<Row[]> =>
  clientOf(db).unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).execute() as unknown as Promise<Row[]>;

/** The same, with each row as an array of its columns' values, in the statement's order. */
export const sendForValues = (db: Executor, text: string, params: readonly unknown[]): Promise<unknown[][]> =>
  clientOf(db).unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).values().execute() as unknown as Promise<unknown[][]>;
