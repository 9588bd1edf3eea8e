import type { Event, RecordedEvent } from './types.js';

/**
 * The pure heart of an aggregate: `decide` turns a command and the current state into new
 * events (or throws a DomainError); `evolve` folds one event into the state. No I/O, no clock.
 */
export type Decider<Command, State, E extends Event> = {
  readonly initialState: State;
  decide(command: Command, state: State): readonly E[];
  evolve(state: State, event: E): State;
};

/** Folds recorded events into a state, starting from `state`. */
export const fold = <State, E extends Event>(
  evolve: (state: State, event: E) => State,
  state: State,
  events: readonly (E | RecordedEvent<E>)[],
): State => events.reduce(evolve, state);
