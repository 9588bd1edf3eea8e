import { sql, type SQL } from 'drizzle-orm';
import type { AppendOptions, StreamRef } from './store.js';
import type { Event } from './types.js';

/** What the append statement answers: the stream row, joined to each event it inserted. */
export type AppendedRow = {
  readonly stream_version: number;
  readonly stream_type: string;
  /** Null when the stream belongs to another aggregate type (nothing was inserted). */
  readonly version: number | null;
  readonly position: string | null;
  readonly transaction_id: string | null;
  readonly recorded_at: string | null;
};

/**
 * The stream row's move under the expected-version rule, returning the new version:
 * 0 creates the stream (nothing when it exists), undefined adds to whatever is there,
 * n moves it from exactly n.
 */
const advanceStream = ({ aggregateId, aggregateType }: StreamRef, count: number, expected: number | undefined): SQL => {
  if (expected === 0) {
    return sql`insert into es.streams (aggregate_id, aggregate_type, version) values (${aggregateId}, ${aggregateType}, ${count})
      on conflict do nothing returning version, aggregate_type`;
  }
  if (expected === undefined) {
    return sql`insert into es.streams as s (aggregate_id, aggregate_type, version) values (${aggregateId}, ${aggregateType}, ${count})
      on conflict (aggregate_id) do update set version = s.version + excluded.version, updated_at = now()
      returning version, aggregate_type`;
  }
  return sql`update es.streams set version = ${expected + count}, updated_at = now()
    where aggregate_id = ${aggregateId} and version = ${expected} returning version, aggregate_type`;
};

/**
 * One round trip for the whole append: the stream's version, the events (numbered after it, in
 * the order given, so positions follow versions) and one outbox row per event. Its text depends
 * only on the expected-version rule, never on how many events there are (they travel as one JSON
 * array), so each connection prepares it three times at most. Events are inserted only when the
 * stream row came back and is of the right aggregate type.
 */
export const appendStatement = (
  stream: StreamRef,
  events: readonly Event[],
  ids: readonly string[],
  options: AppendOptions,
): SQL => {
  const rows = JSON.stringify(events.map((event, index) => ({ id: ids[index], ordinal: index + 1, type: event.type, data: event.data })));
  return sql`with stream as (${advanceStream(stream, events.length, options.expectedVersion)}),
    appended as (
      insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
      select e.id, ${stream.aggregateId}, stream.aggregate_type, stream.version - ${events.length}::int + e.ordinal, e.type, e.data,
             ${JSON.stringify(options.metadata)}::jsonb, ${options.occurredAt.toISOString()}::timestamptz
        from stream, jsonb_to_recordset(${rows}::jsonb) as e(id text, ordinal int, type text, data jsonb)
       where stream.aggregate_type = ${stream.aggregateType}
       order by e.ordinal
      returning position, transaction_id, version, aggregate_type, type, recorded_at
    ),
    outboxed as (
      insert into es.outbox (position, aggregate_type, type) select position, aggregate_type, type from appended
    )
    select stream.version as stream_version, stream.aggregate_type as stream_type, appended.version,
           appended.position::text as position, appended.transaction_id::text as transaction_id, appended.recorded_at
      from stream left join appended on true
     order by appended.version`;
};
