import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { connect, type Database, type Executor } from '../db/client.js';
import { EventStoreError } from './errors.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import type { RecordedEvent } from './types.js';
import type { ViewEvolve, ViewProjection, ViewTable } from './view-projection.js';

/** A view projection and the aggregate type whose streams it folds, as its repository pairs them. */
export type RebuildTarget<T extends ViewTable = ViewTable> = {
  readonly projection: ViewProjection<T>;
  readonly aggregateType: string;
};

export type RebuildOptions = {
  /** Events read and folded per page; each page is one short transaction. */
  readonly pageSize?: number;
  /** Called after each page has committed (progress); the next page waits for it. */
  readonly onPage?: (progress: { readonly events: number; readonly streams: number }) => void | Promise<void>;
};

export type RebuildResult = {
  /** Events folded: every event of the aggregate type, plus the streams refolded at the swap. */
  readonly events: number;
  /** Streams the pages folded. */
  readonly streams: number;
  /** Page transactions, the last (short or empty) one included. */
  readonly pages: number;
  /** Streams that moved while their page was being built, refolded under the swap's lock. */
  readonly refolded: number;
  /** Rows of the table after the rebuild. */
  readonly rows: number;
  /** Rows the swap deleted and inserted: only those that differed from the rebuilt ones. */
  readonly deleted: number;
  readonly inserted: number;
  readonly ms: number;
  /** How long the swap held the table lock (writers of this projection waited that long). */
  readonly swapMs: number;
};

/** One stream folded so far: its last version and its row (`undefined`: no row). */
export type FoldedStream<View> = { readonly aggregateId: string; readonly version: number; readonly view: View | undefined };

/**
 * Folds events ordered by (aggregate, version) into one row per stream, continuing `open` (the
 * stream a previous page ended in). Pure. Returns the streams this page finished and the one it
 * leaves open, which the next page may continue.
 */
export const foldStreams = <View>(
  evolve: ViewEvolve<View>,
  events: readonly RecordedEvent[],
  open?: FoldedStream<View>,
): { finished: FoldedStream<View>[]; open: FoldedStream<View> | undefined } => {
  const finished: FoldedStream<View>[] = [];
  let current = open;
  for (const event of events) {
    if (current && current.aggregateId !== event.aggregateId) {
      finished.push(current);
      current = undefined;
    }
    const expected = (current?.version ?? 0) + 1;
    if (event.version !== expected) {
      throw new EventStoreError(`stream ${event.aggregateId} jumps to version ${event.version}; expected ${expected}`);
    }
    current = { aggregateId: event.aggregateId, version: event.version, view: evolve(current?.view, event) };
  }
  return { finished, open: current };
};

const rowsTable = sql.raw('pg_temp.cairn_rebuild_rows');
/** A list of ids as one parameter (the connection knows no array types: `fetch_types` is off). */
const idList = (ids: readonly string[]): SQL => sql`array(select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;
const versionsTable = sql.raw('pg_temp.cairn_rebuild_versions');

type Columns = readonly (readonly [key: string, column: PgColumn])[];
type Row = Record<string, unknown>;
type Target = { readonly table: ViewTable; readonly evolve: ViewEvolve<Row>; readonly aggregateType: string };

const columnList = (columns: Columns): SQL =>
  sql.join(
    columns.map(([, column]) => sql.identifier(column.name)),
    sql`, `,
  );

/** Events in (aggregate id, version) order: a page of the aggregate type's after `after`, or all of the given streams'. */
const readEvents = async (
  db: Executor,
  where: { aggregateType: string; after: { aggregateId: string; version: number }; limit: number } | { ids: readonly string[] },
): Promise<RecordedEvent[]> => {
  const filter =
    'ids' in where
      ? sql`e.aggregate_id = any(${idList(where.ids)})`
      : sql`e.aggregate_type = ${where.aggregateType}
            and (e.aggregate_id, e.version) > (${where.after.aggregateId}, ${where.after.version}::integer)`;
  const limit = 'limit' in where ? sql`limit ${where.limit}` : sql``;
  const rows = await db.execute<EventRow>(
    sql`select ${eventColumns} from es.events e where ${filter} order by e.aggregate_id, e.version ${limit}`,
  );
  return rows.map(toRecordedEvent);
};

/** A row as the driver would send it, keyed by column name; json(b) values stay JSON. */
const encode = (columns: Columns, view: Row): Record<string, unknown> =>
  Object.fromEntries(
    columns.map(([key, column]) => {
      const value = view[key];
      if (value === null || value === undefined) return [column.name, null];
      return [column.name, column.dataType === 'json' ? value : column.mapToDriverValue(value)];
    }),
  );

/** Writes the rows of folded streams (those that have one) into the temporary table, as one JSON parameter. */
const saveRows = async (db: Executor, columns: Columns, streams: readonly FoldedStream<Row>[]) => {
  const rows = streams.flatMap((stream) => (stream.view === undefined ? [] : [encode(columns, stream.view)]));
  if (rows.length === 0) return;
  const names = columnList(columns);
  await db.execute(sql`insert into ${rowsTable} (${names})
    select ${names} from jsonb_populate_recordset(null::${rowsTable}, ${JSON.stringify(rows)}::jsonb)`);
};

/** Records the version each finished stream was folded to, for the swap to find the streams that moved since. */
const saveVersions = async (db: Executor, streams: readonly FoldedStream<Row>[]) => {
  if (streams.length === 0) return;
  const versions = JSON.stringify(streams.map(({ aggregateId, version }) => ({ aggregateId, version })));
  await db.execute(sql`insert into ${versionsTable} (aggregate_id, version)
    select "aggregateId", version from jsonb_to_recordset(${versions}::jsonb) as s("aggregateId" text, version integer)`);
};

const count = async (db: Executor, table: SQL | PgTable): Promise<number> => {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::integer as n from ${table}`);
  return row?.n ?? 0;
};

/**
 * Pages through every stream of the aggregate type into the temporary tables, one transaction
 * per page; returns the counts.
 */
const buildRows = async (
  db: Database,
  target: Target,
  columns: Columns,
  pageSize: number,
  onPage: RebuildOptions['onPage'],
) => {
  let after = { aggregateId: '', version: 0 };
  let open: FoldedStream<Row> | undefined;
  let events = 0;
  let streams = 0;
  let pages = 0;
  for (;;) {
    const read = await db.transaction(async (tx) => {
      const page = await readEvents(tx, { aggregateType: target.aggregateType, after, limit: pageSize });
      const folded = foldStreams(target.evolve, page, open);
      const last = page.length < pageSize;
      const finished = last && folded.open ? [...folded.finished, folded.open] : folded.finished;
      await saveRows(tx, columns, finished);
      await saveVersions(tx, finished);
      open = last ? undefined : folded.open;
      streams += finished.length;
      return page;
    });
    events += read.length;
    pages++;
    await onPage?.({ events, streams });
    const tail = read.at(-1);
    if (!tail || read.length < pageSize) return { events, streams, pages };
    after = { aggregateId: tail.aggregateId, version: tail.version };
  }
};

/**
 * Under the live table's lock: refolds the streams whose version moved since their page was read,
 * then makes the live rows equal to the rebuilt ones, touching only the rows that differ.
 */
const swap = async (db: Database, target: Target, columns: Columns) =>
  db.transaction(async (tx) => {
    const { table } = target;
    await tx.execute(sql`lock table ${table} in exclusive mode`);
    const stale = await tx.execute<{ aggregate_id: string }>(sql`
      select s.aggregate_id from es.streams s left join ${versionsTable} v on v.aggregate_id = s.aggregate_id
       where s.aggregate_type = ${target.aggregateType} and v.version is distinct from s.version`);
    const ids = stale.map((row) => row.aggregate_id);
    let events = 0;
    if (ids.length > 0) {
      await tx.execute(sql`delete from ${rowsTable} where ${sql.identifier(table.id.name)} = any(${idList(ids)})`);
      const streamEvents = await readEvents(tx, { ids });
      const folded = foldStreams(target.evolve, streamEvents);
      await saveRows(tx, columns, folded.open ? [...folded.finished, folded.open] : folded.finished);
      events = streamEvents.length;
    }
    if ((await count(tx, versionsTable)) + ids.length === 0 && (await count(tx, table)) > 0) {
      throw new EventStoreError(`no stream is a ${target.aggregateType}, yet the table has rows: is that the right aggregate type?`);
    }
    const names = columnList(columns);
    const id = sql.identifier(table.id.name);
    const deleted = await tx.execute(sql`
      delete from ${table} where ${id} in (
        select ${id} from (select ${names} from ${table} except select ${names} from ${rowsTable}) as changed)`);
    const inserted = await tx.execute(sql`
      insert into ${table} (${names}) select ${names} from ${rowsTable} except select ${names} from ${table}`);
    return { refolded: ids.length, events, deleted: deleted.count, inserted: inserted.count, rows: await count(tx, table) };
  });

/**
 * Rebuilds a view projection from the event store: every stream of `aggregateType` is folded,
 * in version order, through the projection's own `evolve` (the function its inline projection
 * and time travel use), and the table ends up holding exactly the rows those folds produce.
 *
 * Streams are read by (aggregate id, version), not in the global log's commit order: the log
 * orders by writing transaction, and a transaction that took its id early (a process-manager
 * step holds its checkpoint from the start) can append version n+1 of a stream ahead of
 * another transaction's version n. Folding per stream is what the inline projection does.
 *
 * Concurrency: safe while commands run; no need to stop the writers. The rows are built on the
 * rebuild's own connection in a temporary table, one short transaction per page, while commands
 * keep writing the live table. Then one swap transaction locks the live table IN EXCLUSIVE MODE
 * (queries keep reading the old rows; commands that project into it wait), refolds every stream
 * whose version moved since its page was read (`es.streams` tells), and replaces the live rows
 * that differ. Readers see the old rows until the swap commits, then the new ones. This relies on
 * every writer of `aggregateType` running the projection in its transaction, as cairn's
 * repositories do. What it costs: for the duration of the swap (`swapMs`), commands of this
 * aggregate wait, and the swap's transaction holds the delivery fence (as each page's does while
 * it writes its temporary rows, tens of milliseconds). Two rebuilds of one projection may
 * overlap: each swap is complete on its own, and the later one wins. A table with rows but no
 * stream of `aggregateType` is refused rather than emptied (a wrong aggregate type, most likely).
 *
 * Columns need an equality operator (jsonb, not json): the swap compares rows with EXCEPT.
 */
export const rebuildViewProjection = async <T extends ViewTable>(
  url: string,
  { projection, aggregateType }: RebuildTarget<T>,
  options: RebuildOptions = {},
): Promise<RebuildResult> => {
  // Inside, a row is any record: the projection's own evolve is what gives it its shape.
  const target: Target = { table: projection.table, evolve: projection.evolve as unknown as ViewEvolve<Row>, aggregateType };
  const started = performance.now();
  const pageSize = options.pageSize ?? 5_000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const columns: Columns = Object.entries(getTableColumns(target.table));
  // One connection: the temporary tables live in its session, and vanish with it if we die.
  const connection = connect(url, { max: 1, applicationName: 'cairn-rebuild' });
  try {
    const { db } = connection;
    await db.execute(sql`create temporary table cairn_rebuild_rows (like ${target.table} including defaults)`);
    await db.execute(sql`create temporary table cairn_rebuild_versions (aggregate_id text primary key, version integer not null)`);
    const built = await buildRows(db, target, columns, pageSize, options.onPage);
    await db.execute(sql`analyze ${versionsTable}`);
    const swapStarted = performance.now();
    const swapped = await swap(db, target, columns);
    const swapMs = performance.now() - swapStarted;
    return {
      events: built.events + swapped.events,
      streams: built.streams,
      pages: built.pages,
      refolded: swapped.refolded,
      rows: swapped.rows,
      deleted: swapped.deleted,
      inserted: swapped.inserted,
      ms: performance.now() - started,
      swapMs,
    };
  } finally {
    await connection.close();
  }
};
