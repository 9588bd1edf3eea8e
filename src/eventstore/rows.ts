import { sql } from 'drizzle-orm';
import type { EventMetadata, RecordedEvent } from './types.js';

/** An event row as raw SQL returns it (`select ${eventColumns} from es.events e`). */
export type EventRow = {
  transaction_id: string;
  position: string;
  id: string;
  aggregate_id: string;
  aggregate_type: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  occurred_at: Date | string;
  recorded_at: Date | string;
};

/** Every column of an EventRow but the payload (`data`, `metadata`), from `es.events` aliased `e`. */
const columnsWithoutPayload = `e.transaction_id::text as transaction_id, e.position::text as position, e.id, e.aggregate_id,
   e.aggregate_type, e.version, e.type, e.occurred_at, e.recorded_at`;

/** The columns of an EventRow, from `es.events` aliased `e`. */
export const eventColumns = sql.raw(`${columnsWithoutPayload}, e.data, e.metadata`);

/** The columns of an EventRow but `data` and `metadata`. */
export const eventColumnsWithoutPayload = sql.raw(columnsWithoutPayload);

/** postgres.js hands over timestamps as Dates already; a copy per event was only garbage. */
const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

const notRead = (field: string): never => {
  throw new Error(`this event's ${field} was not read (readLog withoutPayload)`);
};

/**
 * An event read without its payload: reading `data` or `metadata` is a bug, and throws. A class,
 * so that every such event has the same shape from its construction: built by copying onto an
 * object with a prototype of its own, a catch-up spent more on these than on parsing the rows.
 */
class EventWithoutPayload implements RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly aggregateId: string;
  readonly aggregateType: string;
  readonly version: number;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  readonly logPosition: RecordedEvent['logPosition'];

  constructor(row: Omit<EventRow, 'data' | 'metadata'>) {
    this.id = row.id;
    this.type = row.type;
    this.aggregateId = row.aggregate_id;
    this.aggregateType = row.aggregate_type;
    this.version = row.version;
    this.occurredAt = asDate(row.occurred_at);
    this.recordedAt = asDate(row.recorded_at);
    this.logPosition = { transactionId: BigInt(row.transaction_id), position: BigInt(row.position) };
  }

  get data(): never {
    return notRead('data');
  }

  get metadata(): never {
    return notRead('metadata');
  }
}

export const toEventWithoutPayload = (row: Omit<EventRow, 'data' | 'metadata'>): RecordedEvent => new EventWithoutPayload(row);

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  id: row.id,
  type: row.type,
  data: row.data,
  aggregateId: row.aggregate_id,
  aggregateType: row.aggregate_type,
  version: row.version,
  metadata: row.metadata,
  occurredAt: asDate(row.occurred_at),
  recordedAt: asDate(row.recorded_at),
  logPosition: { transactionId: BigInt(row.transaction_id), position: BigInt(row.position) },
});
