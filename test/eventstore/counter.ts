import { IllegalStateError } from '../../src/eventstore/errors.js';
import type { Decider } from '../../src/eventstore/decider.js';
import type { Event } from '../../src/eventstore/types.js';

/** A tiny aggregate for kernel tests. */
export type CounterEvent = Event<'Added', { by: number }>;
export type CounterCommand = { type: 'Add'; by: number };
export type Counter = { total: number };

export const counter: Decider<CounterCommand, Counter, CounterEvent> = {
  initialState: { total: 0 },
  decide: (command, state) => {
    if (command.by < 0) throw new IllegalStateError('counters only go up');
    if (state.total + command.by > 1_000) throw new IllegalStateError('too much');
    return command.by === 0 ? [] : [{ type: 'Added', data: { by: command.by } }];
  },
  evolve: (state, event) => ({ total: state.total + event.data.by }),
};
