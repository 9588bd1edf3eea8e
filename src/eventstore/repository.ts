import { executeCommand, handleCommand, type CommandContext, type CommandResult, type CommandSpec, type InlineProjection } from './command.js';
import type { Decider } from './decider.js';
import { AlreadyExistsError, ConcurrencyConflictError } from './errors.js';
import { atVersion, replay, type Loaded, type Loader } from './loaders.js';
import type { EventStore, EventStoreSession } from './store.js';
import type { Event } from './types.js';

export type RepositoryOptions<Command, State, E extends Event, Session extends EventStoreSession, Result> = {
  readonly aggregateType: string;
  readonly decider: Decider<Command, State, E>;
  /** How to load state for a command; a full replay when absent. */
  readonly load?: Loader<State, Session>;
  readonly projections?: readonly InlineProjection<Session>[];
  readonly snapshotEvery?: number;
  /** The caller's answer, read in the command's transaction (read-your-writes). */
  readonly respond: CommandSpec<State, E, Session, Result>['respond'];
};

/** Runs commands inside a transaction someone else owns (a process manager's step). */
export type RepositoryInSession<Command, State, E extends Event, Result> = {
  update(id: string, command: Command, context: CommandContext, expectedVersion?: number): Promise<CommandResult<Result>>;
  updateById(
    id: string,
    change: (state: State) => readonly E[],
    context: CommandContext,
    expectedVersion?: number,
  ): Promise<CommandResult<Result>>;
};

/**
 * esrc's Repository in cairn's idiom: an aggregate's decider bound to a store, its loader,
 * projections and snapshot policy. Every write is one `handleCommand` transaction.
 */
export const createRepository = <Command, State, E extends Event, Session extends EventStoreSession, Result>(
  store: EventStore<Session>,
  options: RepositoryOptions<Command, State, E, Session, Result>,
) => {
  const load = options.load ?? (replay(options.decider) as Loader<State, Session>);
  const spec = (
    id: string,
    decide: (state: State) => readonly E[],
    expectedVersion: number | undefined,
  ): CommandSpec<State, E, Session, Result> => ({
    aggregateType: options.aggregateType,
    aggregateId: id,
    ...(expectedVersion !== undefined && { expectedVersion }),
    load,
    decide,
    evolve: options.decider.evolve,
    ...(options.projections && { projections: options.projections }),
    ...(options.snapshotEvery !== undefined && { snapshotEvery: options.snapshotEvery }),
    respond: options.respond,
  });
  const decideWith = (command: Command) => (state: State) => options.decider.decide(command, state);

  return {
    /** The current state and version, or null when the stream does not exist. */
    async load(id: string, at?: { version: number }): Promise<Loaded<State> | null> {
      if (at) return atVersion(options.decider, store, id, at.version);
      // Loaders may read through the session's transaction (a projection row), so give them one.
      const loaded = await store.transaction((session) => load(session, id));
      return loaded.version === 0 ? null : loaded;
    },

    async contains(id: string): Promise<boolean> {
      return (await store.streamVersion(id)) !== undefined;
    },

    /** Starts a new stream; `ALREADY_EXISTS` when it is there already. */
    async add(id: string, command: Command, context: CommandContext): Promise<CommandResult<Result>> {
      try {
        return await handleCommand(store, spec(id, decideWith(command), 0), context);
      } catch (error) {
        if (error instanceof ConcurrencyConflictError && error.expectedVersion === 0) {
          throw new AlreadyExistsError(`${options.aggregateType} ${id} already exists`);
        }
        throw error;
      }
    },

    /** A command against the aggregate as it is (or exactly at `expectedVersion`). */
    update(id: string, command: Command, context: CommandContext, expectedVersion?: number) {
      return handleCommand(store, spec(id, decideWith(command), expectedVersion), context);
    },

    /** esrc's UpdateByID: any function of the current state that returns new events. */
    updateById(id: string, change: (state: State) => readonly E[], context: CommandContext, expectedVersion?: number) {
      return handleCommand(store, spec(id, change, expectedVersion), context);
    },

    /** The same writes inside a transaction the caller owns. */
    in(session: Session): RepositoryInSession<Command, State, E, Result> {
      return {
        update: (id, command, context, expectedVersion) =>
          executeCommand(session, spec(id, decideWith(command), expectedVersion), context),
        updateById: (id, change, context, expectedVersion) => executeCommand(session, spec(id, change, expectedVersion), context),
      };
    },
  };
};

/**
 * A store that works inside a transaction the caller already holds (a process manager's step):
 * reads go through that session and `transaction(work)` runs `work` in it. Pair it with a
 * repository's `.in(session)` for writes, which never retry inside someone else's transaction.
 */
export const sessionStore = <Session extends EventStoreSession>(session: Session): EventStore<Session> => ({
  transaction: (work) => work(session),
  readStream: (id, options) => session.readStream(id, options),
  streamVersion: (id) => session.streamVersion(id),
  readLog: (options) => session.readLog(options),
  hasEvent: (at) => session.hasEvent(at),
  loadSnapshot: (id) => session.loadSnapshot(id),
});
