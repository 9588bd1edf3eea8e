/** A domain event as a decider produces it: a past-tense name and a JSON-safe payload. */
export type Event<Type extends string = string, Data extends Record<string, unknown> = Record<string, unknown>> = {
  readonly type: Type;
  readonly data: Data;
};

/** Correlation and causation travel with every event. */
export type EventMetadata = {
  readonly correlationId: string;
  readonly causationId: string;
  readonly idempotencyKey?: string;
  readonly actor?: string;
  readonly [key: string]: unknown;
};

/** A position in the global, commit-safe order: the writing transaction, then the sequence. */
export type LogPosition = { readonly transactionId: bigint; readonly position: bigint };

/**
 * An event as its command decided it, numbered in its stream: everything but what the database
 * assigns as it writes. Inline projections get this, so that their writes go out with the append.
 */
export type ProjectedEvent<E extends Event = Event> = E & {
  readonly id: string;
  readonly aggregateId: string;
  readonly aggregateType: string;
  readonly version: number;
  readonly metadata: EventMetadata;
  readonly occurredAt: Date;
};

/** An event as the store recorded it. */
export type RecordedEvent<E extends Event = Event> = ProjectedEvent<E> & {
  readonly recordedAt: Date;
  readonly logPosition: LogPosition;
};

export type Snapshot<State = unknown> = {
  readonly aggregateId: string;
  readonly version: number;
  readonly state: State;
};

/**
 * `0`: the stream must not exist. `n`: it must be exactly at `n`.
 * `undefined`: append after whatever is there now.
 */
export type ExpectedVersion = number | undefined;
