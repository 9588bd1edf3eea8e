import { ConcurrencyConflictError, ValidationError } from './errors.js';
import type { Loader } from './loaders.js';
import type { EventStore, EventStoreSession } from './store.js';
import type { Event, EventMetadata, RecordedEvent } from './types.js';

/** Who asked, when, and why: everything a command carries besides its payload. */
export type CommandContext = {
  readonly commandName: string;
  readonly commandId: string;
  readonly now: Date;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly actor?: string;
  readonly idempotencyKey?: string;
  /** A stable rendering of the command's input: a reused idempotency key must match it. */
  readonly fingerprint?: string;
};

/** A read model updated inside the command's transaction. */
export type InlineProjection<Session extends EventStoreSession> = (
  session: Session,
  events: readonly RecordedEvent[],
) => Promise<void>;

export type CommandOutcome<State> = {
  readonly aggregateId: string;
  /** The stream version after the command (unchanged when it decided nothing). */
  readonly version: number;
  readonly events: readonly RecordedEvent[];
  readonly state: State;
};

export type CommandSpec<State, E extends Event, Session extends EventStoreSession, Result> = {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** Absent: act on whatever version is current, retrying a few times on a conflict. */
  readonly expectedVersion?: number;
  readonly load: Loader<State, Session>;
  readonly decide: (state: State) => readonly E[];
  readonly evolve: (state: State, event: E) => State;
  readonly projections?: readonly InlineProjection<Session>[];
  /** Store a snapshot when the stream crosses a multiple of this many events. */
  readonly snapshotEvery?: number;
  /** The caller's answer, read inside the same transaction (read-your-writes) and kept for idempotent replays. */
  readonly respond: (session: Session, outcome: CommandOutcome<State>) => Promise<Result>;
};

export type CommandResult<Result> = {
  readonly aggregateId: string;
  readonly version: number;
  readonly events: readonly RecordedEvent[];
  readonly result: Result;
  /** True when an earlier command with the same idempotency key answered. */
  readonly replayed: boolean;
};

export const maxAttempts = 5;

class IdempotencyRace extends Error {}

/** A conflict that another attempt of the same work may not meet. */
export const isRetryable = (error: unknown): boolean =>
  error instanceof IdempotencyRace || error instanceof ConcurrencyConflictError;

/**
 * Runs load → decide → append → inline projections → (snapshot) → respond in one transaction.
 * A domain error thrown by `decide` rolls everything back and reaches the caller unchanged.
 */
export const handleCommand = async <State, E extends Event, Session extends EventStoreSession, Result>(
  store: EventStore<Session>,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
): Promise<CommandResult<Result>> => {
  const retries = spec.expectedVersion === undefined ? maxAttempts : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction((session) => executeCommand(session, spec, context));
    } catch (error) {
      if (!isRetryable(error) || attempt >= retries) {
        if (error instanceof IdempotencyRace) throw new ConcurrencyConflictError(spec.aggregateId, undefined, undefined);
        throw error;
      }
    }
  }
};

/**
 * One attempt of a command inside a transaction the caller owns (a process manager's step, so
 * that its checkpoint commits with the commands it issues). No retries: a conflict throws and
 * the caller's transaction rolls back.
 */
export const executeCommand = async <State, E extends Event, Session extends EventStoreSession, Result>(
  session: Session,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
): Promise<CommandResult<Result>> => {
  const replay = await findReplay<Result>(session, context);
  if (replay) return replay;

  const loaded = await spec.load(session, spec.aggregateId);
  if (spec.expectedVersion !== undefined && spec.expectedVersion !== loaded.version) {
    throw new ConcurrencyConflictError(spec.aggregateId, spec.expectedVersion, loaded.version);
  }
  let decided: readonly E[];
  try {
    decided = spec.decide(loaded.state);
  } catch (error) {
    // A rejection can come from the state a concurrent command with the same idempotency key
    // just committed (after our lookup, before our load). Its record committed with that state
    // and a new statement sees it, so the command answers as a replay instead of failing.
    const late = await findReplay<Result>(session, context);
    if (late) return late;
    throw error;
  }
  let outcome: CommandOutcome<State> = { aggregateId: spec.aggregateId, ...loaded, events: [] };
  if (decided.length > 0) {
    const appended = await session.appendToStream(
      { aggregateId: spec.aggregateId, aggregateType: spec.aggregateType },
      decided,
      { expectedVersion: loaded.version, metadata: metadataOf(context), occurredAt: context.now },
    );
    outcome = {
      aggregateId: spec.aggregateId,
      version: appended.version,
      events: appended.events,
      state: decided.reduce(spec.evolve, loaded.state),
    };
    for (const project of spec.projections ?? []) await project(session, appended.events);
    if (snapshotDue(spec.snapshotEvery, loaded.version, appended.version)) {
      await session.saveSnapshot({ aggregateId: spec.aggregateId, version: appended.version, state: outcome.state });
    }
  }
  const result = await spec.respond(session, outcome);
  if (context.idempotencyKey !== undefined) {
    const saved = await session.saveIdempotencyRecord({
      key: context.idempotencyKey,
      command: context.commandName,
      fingerprint: context.fingerprint ?? '',
      aggregateId: spec.aggregateId,
      version: outcome.version,
      result,
    });
    if (!saved) throw new IdempotencyRace();
  }
  return { aggregateId: spec.aggregateId, version: outcome.version, events: outcome.events, result, replayed: false };
};

const findReplay = async <Result>(
  session: EventStoreSession,
  context: CommandContext,
): Promise<CommandResult<Result> | null> => {
  if (context.idempotencyKey === undefined) return null;
  const record = await session.findIdempotencyRecord(context.idempotencyKey);
  if (!record) return null;
  if (record.command !== context.commandName || record.fingerprint !== (context.fingerprint ?? '')) {
    throw new ValidationError('this idempotency key was already used for a different command', 'idempotencyKey');
  }
  return {
    aggregateId: record.aggregateId,
    version: record.version,
    events: [],
    result: record.result as Result,
    replayed: true,
  };
};

const snapshotDue = (every: number | undefined, before: number, after: number): boolean =>
  every !== undefined && every > 0 && Math.floor(after / every) > Math.floor(before / every);

export const metadataOf = (context: CommandContext): EventMetadata => ({
  correlationId: context.correlationId ?? context.commandId,
  causationId: context.causationId ?? context.commandId,
  commandId: context.commandId,
  command: context.commandName,
  ...(context.idempotencyKey !== undefined && { idempotencyKey: context.idempotencyKey }),
  ...(context.actor !== undefined && { actor: context.actor }),
});
