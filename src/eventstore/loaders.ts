import { fold } from './decider.js';
import type { Event, RecordedEvent } from './types.js';
import type { EventReader } from './store.js';

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

/** The latest snapshot plus the events after it; a full replay when there is no snapshot. */
export const snapshotAndTail =
  <State, E extends Event>(decider: Evolving<State, E>): Loader<State> =>
  async (reader, aggregateId) => {
    const snapshot = await reader.loadSnapshot<State>(aggregateId);
    const events = await reader.readStream(aggregateId, { afterVersion: snapshot?.version ?? 0 });
    return {
      state: evolveAll(decider, snapshot?.state ?? decider.initialState, events),
      version: events.at(-1)?.version ?? snapshot?.version ?? 0,
    };
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
