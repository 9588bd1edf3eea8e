import { ConcurrencyConflictError, ValidationError } from './errors.js';
import type { Loader } from './loaders.js';
import type { EventStore, EventStoreSession } from './store.js';
import { newId } from './ids.js';
import type { Event, EventMetadata, ProjectedEvent, RecordedEvent } from './types.js';

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

/**
 * A read model updated inside the command's transaction. It gets the events as the command
 * decided them (no log position or record time: its statements go out with the append, before the
 * database assigns those), one aggregate's, oldest first.
 */
export type InlineProjection<Session extends EventStoreSession> = (
  session: Session,
  events: readonly ProjectedEvent[],
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
  /**
   * Set for a command that starts a stream (`newStream`, expected version 0): the state of a
   * stream that does not exist yet. The load is skipped, one round trip: the command can only
   * succeed on a new stream, and its append refuses one that exists (CONCURRENCY_CONFLICT, which
   * `newStream` answers as ALREADY_EXISTS).
   */
  readonly newStreamState?: State;
  readonly decide: (state: State) => readonly E[];
  readonly evolve: (state: State, event: E) => State;
  readonly projections?: readonly InlineProjection<Session>[];
  /** Store a snapshot when the stream crosses a multiple of this many events. */
  readonly snapshotEvery?: number;
  /** The state as a snapshot stores it (JSON); the state itself when absent. */
  readonly snapshotOf?: (state: State) => unknown;
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

/** Another transaction recorded the same idempotency key first (its lock should make this impossible). */
class IdempotencyRace extends Error {}

/** A conflict that another attempt of the same work may not meet. */
export const isRetryable = (error: unknown): boolean =>
  error instanceof IdempotencyRace || error instanceof ConcurrencyConflictError;

/**
 * Runs lock → load → decide → append → inline projections → (snapshot) → respond in one
 * transaction. A domain error thrown by `decide` rolls everything back and reaches the caller
 * unchanged. Without an expected version a conflict is retried a few times; a lost idempotency
 * race always is (the next attempt replays the winner's answer).
 */
export const handleCommand = async <State, E extends Event, Session extends EventStoreSession, Result>(
  store: EventStore<Session>,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
): Promise<CommandResult<Result>> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction((session) => runExclusive(session, spec, context, { ownTransaction: true }));
    } catch (error) {
      const again =
        attempt < maxAttempts &&
        (error instanceof IdempotencyRace || (error instanceof ConcurrencyConflictError && spec.expectedVersion === undefined));
      if (!again) throw error;
    }
  }
};

/**
 * One attempt of a command inside a transaction the caller owns (a process manager's step, so
 * that its checkpoint commits with the commands it issues). No retries: a conflict throws and
 * the caller's transaction rolls back.
 *
 * The idempotency key's lock comes first: a concurrent command with the same key waits for this
 * one to commit and then replays its answer, whatever this one changed in between. The stream's
 * lock comes next, before the load: a transaction that has written nothing yet has no
 * transaction id, so it gets one only after the stream's previous writer committed, and the
 * log's (transaction id, position) order keeps the stream's versions in order.
 */
export const executeCommand = <State, E extends Event, Session extends EventStoreSession, Result>(
  session: Session,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
): Promise<CommandResult<Result>> => runExclusive(session, spec, context, { ownTransaction: false });

/**
 * `ownTransaction`: the command's transaction is its own, and rolls back on any error it throws.
 * Only then do its projections' writes go out with the append, before the append has answered:
 * in a caller's transaction a refused append (ALREADY_EXISTS, which a process manager may catch
 * and go on) must leave nothing behind, not a projection's write or a failed statement.
 */
type Ownership = { readonly ownTransaction: boolean };

const runExclusive = <State, E extends Event, Session extends EventStoreSession, Result>(
  session: Session,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
  ownership: Ownership,
): Promise<CommandResult<Result>> =>
  session.exclusive ? session.exclusive(spec.aggregateId, () => runCommand(session, spec, context, ownership)) : runCommand(session, spec, context, ownership);

const runCommand = async <State, E extends Event, Session extends EventStoreSession, Result>(
  session: Session,
  spec: CommandSpec<State, E, Session, Result>,
  context: CommandContext,
  ownership: Ownership,
): Promise<CommandResult<Result>> => {
  if (context.idempotencyKey !== undefined) {
    await session.lockIdempotencyKey(context.idempotencyKey);
    const replay = await findReplay<Result>(session, context.idempotencyKey, context);
    if (replay) return replay;
  }
  // The lock is not awaited before what follows: the statements after it go out in the same
  // write and PostgreSQL runs them in order, so they still run only once the lock is granted.
  const locked = session.lockStream(spec.aggregateId);
  // Awaited below with what follows it, or left behind by a decision that throws: never unhandled.
  locked.catch(() => undefined);
  const loadLocked = async () => (await Promise.all([spec.load(session, spec.aggregateId), locked]))[0];
  const unread = spec.expectedVersion === 0 && spec.newStreamState !== undefined;
  let loaded = unread ? { state: spec.newStreamState as State, version: 0 } : await loadLocked();
  if (spec.expectedVersion !== undefined && spec.expectedVersion !== loaded.version) {
    throw new ConcurrencyConflictError(spec.aggregateId, spec.expectedVersion, loaded.version);
  }
  let decided = spec.decide(loaded.state);
  if (unread && decided.length === 0) {
    // Nothing to append, so no append to refuse an existing stream: look, as without the shortcut.
    loaded = await loadLocked();
    if (loaded.version !== 0) throw new ConcurrencyConflictError(spec.aggregateId, 0, loaded.version);
    decided = spec.decide(loaded.state);
  }
  let outcome: CommandOutcome<State> = { aggregateId: spec.aggregateId, ...loaded, events: [] };
  if (decided.length > 0) {
    const appended = await appendAndProject(session, spec, decided, loaded.version, context, locked, ownership);
    outcome = {
      aggregateId: spec.aggregateId,
      version: appended.version,
      events: appended.events,
      state: decided.reduce(spec.evolve, loaded.state),
    };
    if (snapshotDue(spec.snapshotEvery, loaded.version, appended.version)) {
      const state = spec.snapshotOf ? spec.snapshotOf(outcome.state) : outcome.state;
      await session.saveSnapshot({ aggregateId: spec.aggregateId, version: appended.version, state });
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

/**
 * The append and the projections' writes, sent together in a transaction of the command's own:
 * the events are numbered from the loaded version (the append refuses any other), so the
 * projections need no answer from the append. A new stream's append and projection go out with
 * the lock too, nothing having been loaded in between. The first failure in the order sent is
 * the one that counts: a refused append makes its projection fail too (an insert meeting the
 * row of a stream that exists, or a statement after an error), and the refusal is what the
 * caller must see; the transaction then rolls back whole. In a caller's transaction the
 * projections wait for the append.
 */
const appendAndProject = async <State, E extends Event, Session extends EventStoreSession, Result>(
  session: Session,
  spec: CommandSpec<State, E, Session, Result>,
  decided: readonly E[],
  version: number,
  context: CommandContext,
  locked: Promise<void>,
  { ownTransaction }: Ownership,
) => {
  const metadata = metadataOf(context);
  const stream = { aggregateId: spec.aggregateId, aggregateType: spec.aggregateType };
  const events = decided.map(
    (event, index): ProjectedEvent => ({ ...event, ...stream, id: newId('evt'), version: version + index + 1, metadata, occurredAt: context.now }),
  );
  const appending = session.appendToStream(stream, decided, {
    expectedVersion: version,
    metadata,
    occurredAt: context.now,
    eventIds: events.map((event) => event.id),
  });
  const projecting = (async () => {
    if (!ownTransaction) await appending;
    for (const project of spec.projections ?? []) await project(session, events);
  })();
  const [lock, append, projection] = await Promise.allSettled([locked, appending, projecting]);
  for (const settled of [lock, append, projection]) if (settled.status === 'rejected') throw settled.reason;
  return (append as PromiseFulfilledResult<Awaited<typeof appending>>).value;
};

const findReplay = async <Result>(
  session: EventStoreSession,
  key: string,
  context: CommandContext,
): Promise<CommandResult<Result> | null> => {
  const record = await session.findIdempotencyRecord(key);
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
