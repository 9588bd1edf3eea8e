import { expect } from 'vitest';
import type { DomainError } from '../../src/eventstore/errors.js';
import type { Event } from '../../src/eventstore/types.js';

type DeciderLike<Command, State, E extends Event> = {
  readonly initialState: State;
  decide(command: Command, state: State): readonly E[];
  evolve(state: State, event: E): State;
};

/** given(events).when(command).then(events) / .thenThrows(ErrorClass): decider tests, no database. */
export const deciderSpec = <Command, State, E extends Event>(decider: DeciderLike<Command, State, E>) => ({
  given: (history: readonly E[]) => {
    const state = history.reduce(decider.evolve, decider.initialState);
    return {
      when: (command: Command) => ({
        then: (expected: readonly E[]) => expect(decider.decide(command, state)).toEqual(expected),
        thenThrows: (error: abstract new (...args: never[]) => DomainError, code?: string) => {
          let thrown: unknown;
          try {
            decider.decide(command, state);
          } catch (caught) {
            thrown = caught;
          }
          expect(thrown).toBeInstanceOf(error);
          if (code) expect((thrown as DomainError).code).toBe(code);
        },
      }),
      thenState: (expected: State) => expect(state).toEqual(expected),
    };
  },
});
