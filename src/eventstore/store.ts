import type { Event, EventMetadata, ExpectedVersion, LogPosition, RecordedEvent, Snapshot } from './types.js';

export type StreamRef = { readonly aggregateId: string; readonly aggregateType: string };

export type AppendOptions = {
  readonly expectedVersion: ExpectedVersion;
  readonly metadata: EventMetadata;
  readonly occurredAt: Date;
  /** The events' ids, one per event, when the caller needs them before the append answers. */
  readonly eventIds?: readonly string[];
};

export type AppendResult = {
  /** The stream's version after the append. */
  readonly version: number;
  readonly events: readonly RecordedEvent[];
};

export type ReadStreamOptions = {
  readonly afterVersion?: number;
  /**
   * After the version of the stream's latest snapshot (all of it when there is none), in the
   * same statement: a loader sends it with the snapshot's read instead of after its answer.
   */
  readonly afterLatestSnapshot?: boolean;
  /** Strictly after this position of the log (one stream's versions follow its log order). */
  readonly after?: LogPosition;
  readonly limit?: number;
};

export type LogFilter = {
  readonly aggregateId?: string;
  readonly aggregateType?: string;
  readonly types?: readonly string[];
};

export type ReadLogOptions = LogFilter & {
  /** Strictly after this position; the start of the log when absent. */
  readonly after?: LogPosition;
  /** At or before this position (used to close a catch-up at the relay's position). */
  readonly until?: LogPosition;
  readonly limit: number;
  /**
   * Leave out each event's `data` and `metadata`, for a reader that needs neither (a
   * subscription selecting only positions, ids, types…); reading either then throws. A store may
   * return them anyway.
   */
  readonly withoutPayload?: boolean;
};

export type IdempotencyRecord = {
  readonly key: string;
  readonly command: string;
  readonly fingerprint: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly result: unknown;
};

/** What every store answers, inside or outside a transaction. */
export interface EventReader {
  /** Events of one stream, oldest first, strictly after `afterVersion`. */
  readStream(aggregateId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The stream's current version, or undefined when it does not exist. */
  streamVersion(aggregateId: string): Promise<number | undefined>;
  /**
   * The global log in commit-safe order: only events whose transaction is older than every
   * transaction still running, so a reader never moves past an event that commits later.
   */
  readLog(options: ReadLogOptions): Promise<RecordedEvent[]>;
  /** True when an event of this log sits at `at`: a cursor naming no event comes from elsewhere. */
  hasEvent(at: LogPosition): Promise<boolean>;
  /** The latest snapshot, or null; a snapshot newer than its stream is rejected. */
  loadSnapshot<State>(aggregateId: string): Promise<Snapshot<State> | null>;
}

/** One unit of work: everything written through it commits or rolls back together. */
export interface EventStoreSession extends EventReader {
  /**
   * Holds the stream for the rest of the unit of work: its other writers wait. Taken before the
   * stream is read, so a command decides on the latest version and appends right after it.
   */
  lockStream(aggregateId: string): Promise<void>;
  /**
   * Runs `work` when no other work of this unit on the same stream is running: commands that a
   * process manager's batch runs at once on one transaction take their stream one at a time, so
   * each loads what the one before it appended. Absent: the unit runs one command at a time.
   */
  exclusive?<T>(aggregateId: string, work: () => Promise<T>): Promise<T>;
  /** Holds an idempotency key for the rest of the unit of work: a concurrent command with the same key waits, then replays. */
  lockIdempotencyKey(key: string): Promise<void>;
  appendToStream(stream: StreamRef, events: readonly Event[], options: AppendOptions): Promise<AppendResult>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  findIdempotencyRecord(key: string): Promise<IdempotencyRecord | null>;
  /** False when another transaction recorded the same key first. */
  saveIdempotencyRecord(record: IdempotencyRecord): Promise<boolean>;
}

export interface EventStore<Session extends EventStoreSession = EventStoreSession> extends EventReader {
  transaction<T>(work: (session: Session) => Promise<T>): Promise<T>;
}
