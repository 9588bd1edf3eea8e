import { executeCommand, handleCommand, type CommandContext, type CommandResult, type CommandSpec, type InlineProjection } from './command.js';
import type { Decider } from './decider.js';
import { AlreadyExistsError, ConcurrencyConflictError } from './errors.js';
import { replay, type Loader } from './loaders.js';
import type { EventStore, EventStoreSession } from './store.js';
import type { Event } from './types.js';

export type AggregateOptions<Command, State, E extends Event, Session extends EventStoreSession, Result> = {
  /** The aggregate type its streams carry, e.g. `Account`. */
  readonly type: string;
  readonly decider: Decider<Command, State, E>;
  /** How a command loads the state; a full replay when absent. */
  readonly load?: Loader<State, Session>;
  /** Read models written in the command's transaction. */
  readonly projections?: readonly InlineProjection<Session>[];
  /** A snapshot each time the stream crosses a multiple of this many events. */
  readonly snapshotEvery?: number;
  /** The state as a snapshot stores it, when it is not plain JSON (pair it with `snapshotAndTail(decider, codec)`). */
  readonly snapshotOf?: (state: State) => unknown;
  /** The caller's answer, read in the command's transaction (read-your-writes) and kept for idempotent replays. */
  readonly respond: CommandSpec<State, E, Session, Result>['respond'];
};

/**
 * `expectedVersion`: 0 for no stream yet, n for exactly n, absent for whatever it is (a conflict
 * is CONCURRENCY_CONFLICT). `newStream`: the command starts a stream; one that exists already is
 * ALREADY_EXISTS.
 */
export type CommandOptions = { readonly expectedVersion?: number; readonly newStream?: boolean };

/** An aggregate's decider bound to its loader, projections, snapshots and answer: everything a command needs. */
export type Aggregate<Command, State, E extends Event, Session extends EventStoreSession, Result> = AggregateOptions<
  Command,
  State,
  E,
  Session,
  Result
> & {
  /** Runs `command` against aggregate `id` in one transaction of its own. */
  handle(store: EventStore<Session>, id: string, command: Command, context: CommandContext, options?: CommandOptions): Promise<CommandResult<Result>>;
  /** The same inside a transaction the caller owns (a process-manager step): no retries, and it commits with the caller. */
  handleIn(session: Session, id: string, command: Command, context: CommandContext, options?: CommandOptions): Promise<CommandResult<Result>>;
};

/**
 * Binds an aggregate's pure decider to the store. A call site is one line of mapping:
 * `accounts.handle(store, id, { type: 'CreditAccount', amount }, context)`.
 */
export const defineAggregate = <Command, State, E extends Event, Session extends EventStoreSession, Result>(
  options: AggregateOptions<Command, State, E, Session, Result>,
): Aggregate<Command, State, E, Session, Result> => {
  const load = options.load ?? (replay(options.decider) as Loader<State, Session>);
  const spec = (id: string, command: Command, options_: CommandOptions): CommandSpec<State, E, Session, Result> => {
    const expectedVersion = options_.newStream ? 0 : options_.expectedVersion;
    return {
    aggregateType: options.type,
    aggregateId: id,
    ...(expectedVersion !== undefined && { expectedVersion }),
    load,
    ...(options_.newStream && { newStreamState: options.decider.initialState }),
    decide: (state) => options.decider.decide(command, state),
    evolve: options.decider.evolve,
    ...(options.projections && { projections: options.projections }),
    ...(options.snapshotEvery !== undefined && { snapshotEvery: options.snapshotEvery }),
    ...(options.snapshotOf && { snapshotOf: options.snapshotOf }),
    respond: options.respond,
    };
  };
  /** A new stream that exists already is ALREADY_EXISTS, not a version conflict. */
  const taken = (id: string, commandOptions: CommandOptions, error: unknown): never => {
    if (commandOptions.newStream && error instanceof ConcurrencyConflictError) {
      throw new AlreadyExistsError(`${options.type} ${id} already exists`);
    }
    throw error;
  };
  return {
    ...options,
    handle: (store, id, command, context, commandOptions = {}) =>
      handleCommand(store, spec(id, command, commandOptions), context).catch((error: unknown) => taken(id, commandOptions, error)),
    handleIn: (session, id, command, context, commandOptions = {}) =>
      executeCommand(session, spec(id, command, commandOptions), context).catch((error: unknown) => taken(id, commandOptions, error)),
  };
};
