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

/** The columns of an EventRow, from `es.events` aliased `e`. */
export const eventColumns = sql.raw(
  `e.transaction_id::text as transaction_id, e.position::text as position, e.id, e.aggregate_id,
   e.aggregate_type, e.version, e.type, e.data, e.metadata, e.occurred_at, e.recorded_at`,
);

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  id: row.id,
  type: row.type,
  data: row.data,
  aggregateId: row.aggregate_id,
  aggregateType: row.aggregate_type,
  version: row.version,
  metadata: row.metadata,
  occurredAt: new Date(row.occurred_at),
  recordedAt: new Date(row.recorded_at),
  logPosition: { transactionId: BigInt(row.transaction_id), position: BigInt(row.position) },
});
