import { randomBytes } from 'node:crypto';
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { connect, type Database, type Executor } from '../db/client.js';
import { EventStoreError } from './errors.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import type { RecordedEvent } from './types.js';
import type { ViewEvolve, ViewProjection, ViewTable } from './view-projection.js';

/** A view projection and the aggregate type whose streams it folds, as its aggregate pairs them. */
/** A projection the rebuild can refold, its row type erased: what a module lists (see `rebuildable`). */
export type Rebuildable = {
  /** Its table's name, e.g. `accounts`: what `npm run projections:rebuild -- <table>` takes. */
  readonly table: string;
  /** The aggregate type whose streams it folds. */
  readonly aggregateType: string;
  rebuild(url: string, options?: RebuildOptions): Promise<RebuildResult>;
};

export type RebuildTarget<T extends ViewTable = ViewTable> = {
  readonly projection: ViewProjection<T>;
  readonly aggregateType: string;
};

export type RebuildOptions = {
  /** Events read and folded per page; each page is one short transaction. */
  readonly pageSize?: number;
  /** Called after each page has committed (progress); the next page waits for it. */
  readonly onPage?: (progress: { readonly events: number; readonly streams: number }) => void | Promise<void>;
  /** Named statements (`CAIRN_PREPARED_STATEMENTS`); false behind PgBouncer in transaction mode. */
  readonly preparedStatements?: boolean;
  /**
   * A rebuild that has not committed a page for this long is taken as dead (its process was
   * killed), and the next rebuild to start drops the tables it left. One hour by default.
   */
  readonly staleAfterMs?: number;
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
  /** Dead rebuilds whose tables this one dropped before it started. */
  readonly cleanedUp: number;
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

/** A list of ids as one parameter (the connection knows no array types: `fetch_types` is off). */
const idList = (ids: readonly string[]): SQL => sql`array(select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;

/**
 * The rebuilds' own tables live in this schema, not in `pg_temp`: a temporary table belongs to
 * one session, and behind a transaction pooler each of the rebuild's transactions may run on
 * another server connection. Each run has two UNLOGGED tables (no WAL, as temporary tables)
 * named after its id, and a row in `runs` that each page refreshes.
 */
const workSchema = 'cairn_rebuild';
const runsTable = sql`${sql.identifier(workSchema)}.runs`;
/** An arbitrary, fixed advisory-lock key: rebuilds create the schema and clean up one at a time. */
const setupLock = 7_341_905_113;

type Work = { readonly runId: string; readonly rows: SQL; readonly versions: SQL };

const workOf = (runId: string): Work => ({
  runId,
  rows: sql`${sql.identifier(workSchema)}.${sql.identifier(`rows_${runId}`)}`,
  versions: sql`${sql.identifier(workSchema)}.${sql.identifier(`versions_${runId}`)}`,
});

const dropWork = async (db: Executor, work: Work) => {
  await db.execute(sql`drop table if exists ${work.rows}, ${work.versions}`);
  await db.execute(sql`delete from ${runsTable} where id = ${work.runId}`);
};

/**
 * Registers the run and creates its tables, after dropping those of runs that have not
 * committed a page for `staleAfterMs` (their process died: nothing else ends a run without
 * dropping its tables). Returns how many dead runs it cleaned up.
 */
const startRun = (db: Database, table: ViewTable, work: Work, staleAfterMs: number) =>
  db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${setupLock})`);
    await tx.execute(sql`create schema if not exists ${sql.identifier(workSchema)}`);
    await tx.execute(sql`create unlogged table if not exists ${runsTable} (
      id text primary key, projection text not null,
      started_at timestamptz not null default now(), alive_at timestamptz not null default now())`);
    // Runs that stopped refreshing their row, and tables with no row at all (a crash of
    // PostgreSQL empties unlogged tables, `runs` included).
    const dead = await tx.execute<{ id: string }>(sql`
      select id from ${runsTable} where alive_at < now() - make_interval(secs => ${staleAfterMs / 1000})
      union
      select substring(c.relname from '^(?:rows|versions)_([0-9a-f]+)$') from pg_class c
       where c.relnamespace = ${workSchema}::regnamespace and c.relkind = 'r'
         and c.relname ~ '^(rows|versions)_[0-9a-f]+$'
         and substring(c.relname from '^(?:rows|versions)_([0-9a-f]+)$') not in (select id from ${runsTable})`);
    for (const { id } of dead) await dropWork(tx, workOf(id));
    await tx.execute(sql`insert into ${runsTable} (id, projection) values (${work.runId}, ${getTableName(table)})`);
    await tx.execute(sql`create unlogged table ${work.rows} (like ${table} including defaults)`);
    await tx.execute(sql`create unlogged table ${work.versions} (aggregate_id text primary key, version integer not null)`);
    return dead.length;
  });

/** Marks the run alive, inside each of its transactions; fails if another rebuild took it for dead. */
const stillAlive = async (db: Executor, work: Work) => {
  const touched = await db.execute(sql`update ${runsTable} set alive_at = now() where id = ${work.runId}`);
  if (touched.count !== 1) {
    throw new EventStoreError(`rebuild ${work.runId} was idle for so long that another rebuild dropped its tables`);
  }
};

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

/** Writes the rows of folded streams (those that have one) into the run's rows table, as one JSON parameter. */
const saveRows = async (db: Executor, work: Work, columns: Columns, streams: readonly FoldedStream<Row>[]) => {
  const rows = streams.flatMap((stream) => (stream.view === undefined ? [] : [encode(columns, stream.view)]));
  if (rows.length === 0) return;
  const names = columnList(columns);
  await db.execute(sql`insert into ${work.rows} (${names})
    select ${names} from jsonb_populate_recordset(null::${work.rows}, ${JSON.stringify(rows)}::jsonb)`);
};

/** Records the version each finished stream was folded to, for the swap to find the streams that moved since. */
const saveVersions = async (db: Executor, work: Work, streams: readonly FoldedStream<Row>[]) => {
  if (streams.length === 0) return;
  const versions = JSON.stringify(streams.map(({ aggregateId, version }) => ({ aggregateId, version })));
  await db.execute(sql`insert into ${work.versions} (aggregate_id, version)
    select "aggregateId", version from jsonb_to_recordset(${versions}::jsonb) as s("aggregateId" text, version integer)`);
};

const count = async (db: Executor, table: SQL | PgTable): Promise<number> => {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::integer as n from ${table}`);
  return row?.n ?? 0;
};

/**
 * Pages through every stream of the aggregate type into the run's tables, one transaction per
 * page; returns the counts.
 */
const buildRows = async (
  db: Database,
  work: Work,
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
      await stillAlive(tx, work);
      const page = await readEvents(tx, { aggregateType: target.aggregateType, after, limit: pageSize });
      const folded = foldStreams(target.evolve, page, open);
      const last = page.length < pageSize;
      const finished = last && folded.open ? [...folded.finished, folded.open] : folded.finished;
      await saveRows(tx, work, columns, finished);
      await saveVersions(tx, work, finished);
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
const swap = async (db: Database, work: Work, target: Target, columns: Columns) =>
  db.transaction(async (tx) => {
    const { table } = target;
    await stillAlive(tx, work);
    await tx.execute(sql`lock table ${table} in exclusive mode`);
    const stale = await tx.execute<{ aggregate_id: string }>(sql`
      select s.aggregate_id from es.streams s left join ${work.versions} v on v.aggregate_id = s.aggregate_id
       where s.aggregate_type = ${target.aggregateType} and v.version is distinct from s.version`);
    const ids = stale.map((row) => row.aggregate_id);
    let events = 0;
    if (ids.length > 0) {
      await tx.execute(sql`delete from ${work.rows} where ${sql.identifier(table.id.name)} = any(${idList(ids)})`);
      const streamEvents = await readEvents(tx, { ids });
      const folded = foldStreams(target.evolve, streamEvents);
      await saveRows(tx, work, columns, folded.open ? [...folded.finished, folded.open] : folded.finished);
      events = streamEvents.length;
    }
    if ((await count(tx, work.versions)) + ids.length === 0 && (await count(tx, table)) > 0) {
      throw new EventStoreError(`no stream is a ${target.aggregateType}, yet the table has rows: is that the right aggregate type?`);
    }
    const names = columnList(columns);
    const id = sql.identifier(table.id.name);
    const deleted = await tx.execute(sql`
      delete from ${table} where ${id} in (
        select ${id} from (select ${names} from ${table} except select ${names} from ${work.rows}) as changed)`);
    const inserted = await tx.execute(sql`
      insert into ${table} (${names}) select ${names} from ${work.rows} except select ${names} from ${table}`);
    return { refolded: ids.length, events, deleted: deleted.count, inserted: inserted.count, rows: await count(tx, table) };
  });

/**
 * Rebuilds a view projection from the event store: every stream of `aggregateType` is folded,
 * in version order, through the projection's own `evolve` (the function its inline projection
 * and time travel use), and the table ends up holding exactly the rows those folds produce.
 *
 * Streams are read by (aggregate id, version), as the inline projection folds them: a page is a
 * run of whole streams, and the fold does not depend on the global log's order (which the store
 * keeps in version order for each stream anyway).
 *
 * Concurrency: safe while commands run; no need to stop the writers. The rows are built in
 * UNLOGGED tables of the run's own (schema `cairn_rebuild`, named after the run), one short
 * transaction per page, while commands keep writing the live table. No transaction relies on
 * the session of another, so it works behind a transaction pooler (PgBouncer in transaction
 * mode). The run's tables are dropped when it ends, however it ends; a run whose process died
 * leaves them, and the next rebuild to start drops them once that run has been idle for
 * `staleAfterMs`. Then one swap transaction locks the live table IN EXCLUSIVE MODE
 * (queries keep reading the old rows; commands that project into it wait), refolds every stream
 * whose version moved since its page was read (`es.streams` tells), and replaces the live rows
 * that differ. Readers see the old rows until the swap commits, then the new ones. This relies on
 * every writer of `aggregateType` running the projection in its transaction, as cairn's
 * repositories do. What it costs: for the duration of the swap (`swapMs`), commands of this
 * aggregate wait, and the swap's transaction holds the delivery fence (as each page's does while
 * it writes its rows, tens of milliseconds). Two rebuilds of one projection may
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
  const connection = connect(url, {
    max: 1,
    applicationName: 'cairn-rebuild',
    // Named statements make a page about 1.5 ms shorter here, which matters while writers keep
    // adding streams ahead of the scan; off behind a transaction pooler, as for the server.
    prepare: options.preparedStatements ?? true,
  });
  const work = workOf(randomBytes(8).toString('hex'));
  try {
    const { db } = connection;
    const cleanedUp = await startRun(db, target.table, work, options.staleAfterMs ?? 3_600_000);
    try {
      const built = await buildRows(db, work, target, columns, pageSize, options.onPage);
      await db.execute(sql`analyze ${work.versions}`);
      const swapStarted = performance.now();
      const swapped = await swap(db, work, target, columns);
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
        cleanedUp,
      };
    } finally {
      // Best effort: when the database is gone, the next rebuild drops them once they are stale.
      await connection.db.transaction((tx) => dropWork(tx, work)).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
};

/** A view projection and the aggregate type it folds, as the rebuild command lists it. */
export const rebuildable = <T extends ViewTable>(target: RebuildTarget<T>): Rebuildable => ({
  table: getTableName(target.projection.table),
  aggregateType: target.aggregateType,
  rebuild: (url, options) => rebuildViewProjection(url, target, options),
});
