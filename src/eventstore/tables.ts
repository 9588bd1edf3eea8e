import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

/** PostgreSQL's 64-bit transaction id; carried as a decimal string so it never loses precision. */
export const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => 'xid8',
});

export const es = pgSchema('es');

const currentTransactionId = () =>
  xid8('transaction_id')
    .notNull()
    .default(sql`pg_current_xact_id()`);

export const events = es.table(
  'events',
  {
    position: bigserial('position', { mode: 'bigint' }).primaryKey(),
    transactionId: currentTransactionId(),
    id: text('id').notNull().unique(),
    aggregateId: text('aggregate_id').notNull(),
    aggregateType: text('aggregate_type').notNull(),
    version: integer('version').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    metadata: jsonb('metadata').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('events_stream_version').on(t.aggregateId, t.version),
    index('events_commit_order').on(t.transactionId, t.position),
    index('events_aggregate_type_commit_order').on(t.aggregateType, t.transactionId, t.position),
    index('events_type_commit_order').on(t.type, t.transactionId, t.position),
  ],
);

export const streams = es.table('streams', {
  aggregateId: text('aggregate_id').primaryKey(),
  aggregateType: text('aggregate_type').notNull(),
  version: integer('version').notNull(),
  /**
   * The transaction that wrote the stream's latest version. An append from an older transaction
   * is refused: in the log's (transaction id, position) order it would land before that version.
   */
  transactionId: currentTransactionId(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const snapshots = es.table(
  'snapshots',
  {
    aggregateId: text('aggregate_id').notNull(),
    version: integer('version').notNull(),
    data: jsonb('data').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.aggregateId, t.version] })],
);

/** One row per event, written in the event's transaction; the relay reads it in commit-safe order. */
export const outbox = es.table(
  'outbox',
  {
    transactionId: currentTransactionId(),
    position: bigint('position', { mode: 'bigint' })
      .notNull()
      .references(() => events.position),
    aggregateType: text('aggregate_type').notNull(),
    type: text('type').notNull(),
  },
  (t) => [primaryKey({ columns: [t.transactionId, t.position] })],
);

/** Where each durable consumer (process manager, projector) has got to in the global log. */
export const checkpoints = es.table('checkpoints', {
  consumer: text('consumer').primaryKey(),
  transactionId: xid8('transaction_id').notNull(),
  position: bigint('position', { mode: 'bigint' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * Triggers a process manager gave up on after its retries, and the later triggers of the same
 * process that wait behind them; an operator retries them (`npm run process-managers`).
 */
export const parkedTriggers = es.table(
  'parked_triggers',
  {
    consumer: text('consumer').notNull(),
    transactionId: xid8('transaction_id').notNull(),
    position: bigint('position', { mode: 'bigint' }).notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    /** Which process (a transfer, an order…) the trigger belongs to: its later triggers wait behind it. */
    process: text('process').notNull(),
    attempts: integer('attempts').notNull(),
    /** The last failure: the database's error code and message, or the error's name and message; never parameters. */
    error: text('error').notNull(),
    /** False for a trigger that never ran: it only waits behind an earlier parked one of its process. */
    failed: boolean('failed').notNull(),
    parkedAt: timestamp('parked_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.transactionId, t.position] }), index('parked_triggers_process').on(t.consumer, t.process)],
);

/** The outcome of every command that carried an idempotency key. */
export const idempotencyKeys = es.table('idempotency_keys', {
  key: text('key').primaryKey(),
  command: text('command').notNull(),
  fingerprint: text('fingerprint').notNull(),
  aggregateId: text('aggregate_id').notNull(),
  version: integer('version').notNull(),
  result: jsonb('result'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
