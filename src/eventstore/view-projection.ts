import { eq, getTableColumns, type InferSelectModel } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { InlineProjection } from './command.js';
import type { Executor } from '../db/client.js';
import type { PostgresSession } from './postgres-store.js';
import { sendForValues } from './raw.js';
import type { EventReader } from './store.js';
import type { Event, ProjectedEvent, RecordedEvent } from './types.js';

/**
 * How one event changes an aggregate's read model: pure, so the inline projection and time
 * travel (`atVersion`) compute the very same rows. `undefined` means "no row". It sees the event
 * as its command decided it, without the log position or record time the database assigns: the
 * inline projection writes its row in the same round trip as the append.
 */
export type ViewEvolve<View, E extends Event = Event> = (view: View | undefined, event: ProjectedEvent<E>) => View | undefined;

export type ViewTable = PgTable & { id: PgColumn };

/**
 * An inline projection of one row per aggregate, carrying its table and pure `evolve` so that
 * the same definition can also be rebuilt from the log (`rebuild.ts`).
 */
export type ViewProjection<T extends ViewTable = ViewTable> = InlineProjection<PostgresSession> & {
  readonly table: T;
  readonly evolve: ViewEvolve<InferSelectModel<T>>;
};

type Row = Record<string, unknown>;

/**
 * The rows of view tables this transaction holds locked: written by its projections or read
 * `for update` (`lockView`). No other transaction can change them before it ends, so a command
 * reads each row at most once: its loader's read serves the projection, and the projection's
 * write serves the response. Kept per session (one transaction); never crosses a commit.
 */
const heldRows = new WeakMap<PostgresSession, Map<ViewTable, Map<string, Row | undefined>>>();

const held = (session: PostgresSession, table: ViewTable): Map<string, Row | undefined> => {
  let tables = heldRows.get(session);
  if (!tables) heldRows.set(session, (tables = new Map()));
  let rows = tables.get(table);
  if (!rows) tables.set(table, (rows = new Map()));
  return rows;
};

/**
 * A view table's statements, built once from its Drizzle definition: the row by id (and locked),
 * inserted and updated whole, each returning the row as Drizzle would map it.
 */
type ViewStatements = {
  readonly select: string;
  readonly lock: string;
  readonly insert: string;
  readonly update: string;
  /** Property name and column, in the statements' column order. */
  readonly columns: readonly (readonly [string, PgColumn])[];
};

const statements = new WeakMap<ViewTable, ViewStatements>();

const statementsOf = (table: ViewTable): ViewStatements => {
  let built = statements.get(table);
  if (built) return built;
  const config = getTableConfig(table as PgTable);
  const name = `${config.schema ? `"${config.schema}".` : ''}"${config.name}"`;
  const columns = Object.entries(getTableColumns(table as PgTable)) as [string, PgColumn][];
  const list = columns.map(([, column]) => `"${column.name}"`).join(', ');
  const id = `"${table.id.name}"`;
  const select = `select ${list} from ${name} where ${id} = $1`;
  built = {
    select,
    lock: `${select} for update`,
    insert: `insert into ${name} (${list}) values (${columns.map((_, index) => `$${index + 1}`).join(', ')}) returning ${list}`,
    update: `update ${name} set ${columns.map(([, column], index) => `"${column.name}" = $${index + 1}`).join(', ')} where ${id} = $${columns.length + 1} returning ${list}`,
    columns,
  };
  statements.set(table, built);
  return built;
};

/** A row as Drizzle maps it: each column's value decoded by the column, nulls kept. */
const fromValues = (columns: ViewStatements['columns'], values: readonly unknown[]): Row => {
  const row: Row = {};
  columns.forEach(([key, column], index) => {
    const value = values[index];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  });
  return row;
};

/** A row's values as Drizzle binds them; undefined when it lacks a column (Drizzle would write its default). */
const toValues = (columns: ViewStatements['columns'], row: Row): unknown[] | undefined => {
  const values: unknown[] = [];
  for (const [key, column] of columns) {
    const value = row[key];
    if (value === undefined) return undefined;
    values.push(value === null ? null : column.mapToDriverValue(value));
  }
  return values;
};

const selectRow = async (session: PostgresSession, table: ViewTable, id: string, lock: boolean): Promise<Row | undefined> => {
  const { columns, select, lock: locking } = statementsOf(table);
  const [values] = await sendForValues(session.tx, lock ? locking : select, [id]);
  return values && fromValues(columns, values);
};

/** An aggregate's row, read on any pool (queries): undefined when there is none. */
export const findRow = async <T extends ViewTable>(db: Executor, table: T, id: string): Promise<InferSelectModel<T> | undefined> => {
  const [row] = (await db
    .select()
    .from(table as PgTable)
    .where(eq(table.id, id))) as InferSelectModel<T>[];
  return row;
};

/**
 * Reads an aggregate's row and locks it until the transaction ends, so concurrent commands on
 * one aggregate queue instead of racing to a version conflict. The row is remembered for the
 * rest of the transaction.
 */
export const lockView = async <T extends ViewTable>(
  session: PostgresSession,
  table: T,
  id: string,
): Promise<InferSelectModel<T> | undefined> => {
  const row = (await selectRow(session, table, id, true)) as InferSelectModel<T> | undefined;
  if (row !== undefined) held(session, table).set(id, row);
  return row;
};

/** An aggregate's row as this transaction sees it: the one it holds, else read. */
export const findView = async <T extends ViewTable>(
  session: PostgresSession,
  table: T,
  id: string,
): Promise<InferSelectModel<T> | undefined> => {
  const rows = held(session, table);
  if (rows.has(id)) return rows.get(id) as InferSelectModel<T> | undefined;
  return (await selectRow(session, table, id, false)) as InferSelectModel<T> | undefined;
};

/**
 * The row before `events` (one aggregate's, oldest first). A stream these events start is new in
 * this transaction, so no row derived from it can exist yet: its row is not read at all.
 */
const rowBefore = <T extends ViewTable>(
  session: PostgresSession,
  table: T,
  events: readonly ProjectedEvent[],
): Promise<InferSelectModel<T> | undefined> =>
  events[0]!.version === 1 ? Promise.resolve(undefined) : findView(session, table, events[0]!.aggregateId);

/** Writes `next` over `current`; returns the row as stored (numerics and times as PostgreSQL keeps them). */
const write = async <T extends ViewTable>(
  session: PostgresSession,
  table: T,
  id: string,
  current: InferSelectModel<T> | undefined,
  next: InferSelectModel<T> | undefined,
): Promise<Row | undefined> => {
  if (next === undefined) {
    if (current !== undefined) await session.tx.delete(table).where(eq(table.id, id));
    return undefined;
  }
  const { columns, insert, update } = statementsOf(table);
  const values = toValues(columns, next as Row);
  if (values === undefined) {
    const [stored] =
      current === undefined
        ? await session.tx.insert(table).values(next as never).returning()
        : await session.tx.update(table).set(next as never).where(eq(table.id, id)).returning();
    return stored as Row;
  }
  const [stored] = await sendForValues(session.tx, current === undefined ? insert : update, current === undefined ? values : [...values, id]);
  return stored && fromValues(columns, stored);
};

/**
 * An inline projection of one row per aggregate: take the row (held, or read), fold the
 * command's events into it, write it back. Runs in the command's transaction.
 */
export const viewProjection = <T extends ViewTable, E extends Event>(
  table: T,
  evolve: ViewEvolve<InferSelectModel<T>, E>,
): ViewProjection<T> => {
  const project: InlineProjection<PostgresSession> = async (session, events) => {
    const byAggregate = new Map<string, ProjectedEvent[]>();
    for (const event of events) {
      const stream = byAggregate.get(event.aggregateId);
      if (stream) stream.push(event);
      else byAggregate.set(event.aggregateId, [event]);
    }
    for (const [aggregateId, stream] of byAggregate) {
      const current = await rowBefore(session, table, stream);
      const next = stream.reduce<InferSelectModel<T> | undefined>(
        (view, event) => evolve(view, event as ProjectedEvent<E>),
        current,
      );
      held(session, table).set(aggregateId, await write(session, table, aggregateId, current, next));
    }
  };
  return Object.assign(project, { table, evolve: evolve as ViewEvolve<InferSelectModel<T>> });
};

/**
 * A command's answer: the aggregate's row after the command, read in its transaction (the row
 * its projection just wrote, without another read).
 */
export const respondWithView =
  <T extends ViewTable>(table: T, name: string) =>
  async (session: PostgresSession, outcome: { readonly aggregateId: string }): Promise<InferSelectModel<T>> => {
    const view = await findView(session, table, outcome.aggregateId);
    if (!view) throw new Error(`${name} view ${outcome.aggregateId} was not written`);
    return view;
  };

/** The read model as it was right after `version`, rebuilt from the stream; null when there was none. */
export const viewAtVersion = async <View, E extends Event>(
  reader: EventReader,
  aggregateId: string,
  version: number,
  evolve: ViewEvolve<View, E>,
): Promise<View | null> => {
  if (!Number.isInteger(version) || version < 1) return null;
  const events = await reader.readStream(aggregateId, { limit: version });
  if (events.length < version) return null;
  return events.reduce<View | undefined>((view, event) => evolve(view, event as RecordedEvent<E>), undefined) ?? null;
};
