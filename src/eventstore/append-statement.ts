import type { AppendOptions, StreamRef } from './store.js';
import type { Event } from './types.js';

/**
 * What the append statement answers: the stream row, joined to each event it inserted; one row of
 * nulls but `current_version` when it refused.
 */
export type AppendedRow = {
  /** Null when the expected-version rule refused the append (nothing was written). */
  readonly stream_version: number | null;
  readonly stream_type: string | null;
  /**
   * The stream's version before the statement (null: no stream): why a refused append was
   * refused, without another statement, which would fail in a transaction whose statements
   * after the append (its projection's) have already failed.
   */
  readonly current_version: number | null;
  /** Null when the stream belongs to another aggregate type (nothing was inserted). */
  readonly version: number | null;
  readonly position: string | null;
  readonly transaction_id: string | null;
  readonly recorded_at: string | null;
};

/**
 * The stream row's move under the expected-version rule, returning the new version ($1 aggregate
 * id, $2 aggregate type, $3 number of events, $7 the expected version): 0 creates the stream
 * (nothing when it exists), undefined adds to whatever is there, n moves it from exactly n. The
 * row remembers the writing transaction, and a transaction older than the stream's last writer
 * moves nothing: the log orders by transaction id, so its events would appear before the
 * version they follow (see `StreamOrderConflict`).
 */
const advanceStream = {
  new: `insert into es.streams (aggregate_id, aggregate_type, version) values ($1, $2, $3)
      on conflict do nothing returning version, aggregate_type`,
  any: `insert into es.streams as s (aggregate_id, aggregate_type, version) values ($1, $2, $3)
      on conflict (aggregate_id) do update
        set version = s.version + excluded.version, transaction_id = excluded.transaction_id, updated_at = now()
        where s.transaction_id <= excluded.transaction_id
      returning version, aggregate_type`,
  exact: `update es.streams set version = $7::int + $3::int, transaction_id = pg_current_xact_id(), updated_at = now()
    where aggregate_id = $1 and version = $7 and transaction_id <= pg_current_xact_id()
    returning version, aggregate_type`,
} as const;

/**
 * One round trip for the whole append: the stream's version, the events (numbered after it, in
 * the order given, so positions follow versions) and one outbox row per event. Events travel as
 * one JSON array ($6), so the text depends only on the expected-version rule: three statements,
 * each built once and prepared once per connection. Events are inserted only when the stream row
 * came back and is of the right aggregate type.
 */
const appendText = (advance: string) => `with stream as (${advance}),
    appended as (
      insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
      select e.id, $1, stream.aggregate_type, stream.version - $3::int + e.ordinal, e.type, e.data,
             $4::jsonb, $5::timestamptz
        from stream, jsonb_to_recordset($6::jsonb) as e(id text, ordinal int, type text, data jsonb)
       where stream.aggregate_type = $2
       order by e.ordinal
      returning position, transaction_id, version, aggregate_type, type, recorded_at
    ),
    outboxed as (
      insert into es.outbox (position, aggregate_type, type) select position, aggregate_type, type from appended
    )
    select stream.version as stream_version, stream.aggregate_type as stream_type, appended.version,
           appended.position::text as position, appended.transaction_id::text as transaction_id, appended.recorded_at,
           current.version as current_version
      from (values (1)) as one
      left join stream on true
      left join appended on true
      left join es.streams as current on current.aggregate_id = $1
     order by appended.version`;

const texts = { new: appendText(advanceStream.new), any: appendText(advanceStream.any), exact: appendText(advanceStream.exact) };

/** The append statement's text for an expected version (0: new stream, undefined: any, n: exactly n). */
export const appendStatementText = (expectedVersion: number | undefined): string =>
  expectedVersion === 0 ? texts.new : expectedVersion === undefined ? texts.any : texts.exact;

/**
 * The append statement and its parameters: $1 aggregate id, $2 aggregate type, $3 number of
 * events, $4 metadata (JSON), $5 occurred at, $6 the events (a JSON array of id, ordinal, type,
 * data), $7 the expected version (only for "exactly n").
 */
export const appendStatement = (
  stream: StreamRef,
  events: readonly Event[],
  ids: readonly string[],
  options: AppendOptions,
): { readonly text: string; readonly params: readonly unknown[] } => {
  const rows = JSON.stringify(events.map((event, index) => ({ id: ids[index], ordinal: index + 1, type: event.type, data: event.data })));
  const expected = options.expectedVersion;
  const params = [stream.aggregateId, stream.aggregateType, events.length, JSON.stringify(options.metadata), options.occurredAt.toISOString(), rows];
  return { text: appendStatementText(expected), params: expected === 0 || expected === undefined ? params : [...params, expected] };
};
