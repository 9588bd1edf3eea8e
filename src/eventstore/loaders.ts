import type { InferSelectModel } from 'drizzle-orm';
import { fold } from './decider.js';
import type { PostgresSession } from './postgres-store.js';
import type { Event, RecordedEvent } from './types.js';
import type { EventReader } from './store.js';
import { lockView, type ViewTable } from './view-projection.js';

/** An aggregate's state and the stream version it reflects (0 when the stream does not exist). */
export type Loaded<State> = { readonly state: State; readonly version: number };

export type Loader<State, Reader extends EventReader = EventReader> = (
  reader: Reader,
  aggregateId: string,
) => Promise<Loaded<State>>;

type Evolving<State, E extends Event> = {
  readonly initialState: State;
  evolve(state: State, event: E): State;
};

/** Folds a stream read from the store (typed only as `Event`) with the aggregate's `evolve`. */
const evolveAll = <State, E extends Event>(
  decider: Evolving<State, E>,
  state: State,
  events: readonly RecordedEvent[],
): State => fold(decider.evolve, state, events as readonly RecordedEvent<E>[]);

/** Replays the whole stream. */
export const replay =
  <State, E extends Event>(decider: Evolving<State, E>): Loader<State> =>
  async (reader, aggregateId) => {
    const events = await reader.readStream(aggregateId);
    return {
      state: evolveAll(decider, decider.initialState, events),
      version: events.at(-1)?.version ?? 0,
    };
  };

/** How a state that is not plain JSON (sets, say) is stored in a snapshot and read back. */
export type SnapshotCodec<State> = {
  readonly encode: (state: State) => unknown;
  readonly decode: (stored: unknown) => State;
};

/** The latest snapshot plus the events after it; a full replay when there is no snapshot. */
export const snapshotAndTail =
  <State, E extends Event>(decider: Evolving<State, E>, codec?: SnapshotCodec<State>): Loader<State> =>
  async (reader, aggregateId) => {
    // Both in one round trip: the events after the latest snapshot's version, whatever it is.
    const [snapshot, events] = await Promise.all([
      reader.loadSnapshot<unknown>(aggregateId),
      reader.readStream(aggregateId, { afterLatestSnapshot: true }),
    ]);
    const from = snapshot ? (codec ? codec.decode(snapshot.state) : (snapshot.state as State)) : decider.initialState;
    return {
      state: evolveAll(decider, from, events),
      version: events.at(-1)?.version ?? snapshot?.version ?? 0,
    };
  };

/**
 * The state from the aggregate's projection row instead of its events (the row holds all the
 * state there is). The row is locked for the command, so the rebuild's swap and the projection
 * see it held, and it is read once: it serves the projection too.
 */
export const fromView =
  <T extends ViewTable, State>(table: T, toState: (row: InferSelectModel<T>) => Loaded<State>, none: State): Loader<State, PostgresSession> =>
  async (session, aggregateId) => {
    const row = await lockView(session, table, aggregateId);
    return row === undefined ? { state: none, version: 0 } : toState(row);
  };

/**
 * Another loader's state, with the aggregate's projection row locked and held for the command
 * first: the projection then writes the row it already read (one read, not two), and a rebuild's
 * swap waits for the command. Outside a command's transaction (no `tx`) it only loads.
 */
export const holdingView =
  <T extends ViewTable, State>(table: T, load: Loader<State>): Loader<State> =>
  async (reader, aggregateId) => {
    if (!('tx' in reader)) return load(reader, aggregateId);
    // The lock and the load's statements go out together; PostgreSQL runs them in order.
    const [, loaded] = await Promise.all([lockView(reader as PostgresSession, table, aggregateId), load(reader, aggregateId)]);
    return loaded;
  };

/** The state as it was after `version`, rebuilt from events (time travel). */
export const atVersion = async <State, E extends Event>(
  decider: Evolving<State, E>,
  reader: EventReader,
  aggregateId: string,
  version: number,
): Promise<Loaded<State> | null> => {
  if (version < 1) return null;
  const events = await reader.readStream(aggregateId, { limit: version });
  if (events.length < version) return null;
  return {
    state: evolveAll(decider, decider.initialState, events),
    version,
  };
};
