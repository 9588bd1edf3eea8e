import type { ResolverServices } from '../graphql/context.js';
import { nextPage, pagesOf, partOfPage, type LogSubscription } from '../eventstore/log-subscription.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { forbidden } from './errors.js';
import { isAdmin, mayRead, type Principal } from './principal.js';

/**
 * The owners of one aggregate: who may read it and act on it (admins aside). An account has
 * one, its owner; a transfer has the owners of its two accounts. Empty when it does not exist.
 */
export type Owners = (id: string, services: ResolverServices) => Promise<readonly string[]>;

/** Owner rules by aggregate type, registered by the modules whose aggregates have owners. */
const rules = new Map<string, Owners>();

/**
 * Gives an aggregate type owners: its projection, events and commands are then the owners' (and
 * admins') alone. Aggregate types without a rule are shared: every reader reads them, every
 * writer runs their commands (README, "Security").
 */
export const registerOwners = (aggregateType: string, owners: Owners): void => {
  rules.set(aggregateType, owners);
};

export const hasOwners = (aggregateType: string): boolean => rules.has(aggregateType);

/** Whether the principal owns aggregate `id` of this type (admins own everything; shared types are everyone's). */
export const owns = async (principal: Principal, aggregateType: string, id: string, services: ResolverServices): Promise<boolean> => {
  if (isAdmin(principal)) return true;
  const owners = rules.get(aggregateType);
  if (!owners) return true;
  return principal.sub !== null && (await owners(id, services)).includes(principal.sub);
};

/** Whether the principal may read this event: a reader, and its aggregate's owner when it has owners. */
export const mayReadEvent = async (principal: Principal, event: RecordedEvent, services: ResolverServices): Promise<boolean> =>
  mayRead(principal) && (await owns(principal, event.aggregateType, event.aggregateId, services));

/** Throws FORBIDDEN (UNAUTHENTICATED without a token) unless the principal owns the aggregate. */
export const requireOwner = async (principal: Principal, aggregateType: string, id: string, services: ResolverServices): Promise<void> => {
  if (!(await owns(principal, aggregateType, id, services))) throw forbidden(principal);
};

/**
 * The events of `source` the principal may read, in order; admins and open servers skip the check.
 * Closing it closes the source at once (a generator parked in `await` would take `return()` only
 * at its next yield, and keep its relay listener until an event it may read came).
 */
export const readableEvents = (
  source: AsyncGenerator<RecordedEvent>,
  principal: Principal,
  services: ResolverServices,
): AsyncGenerator<RecordedEvent> => {
  if (isAdmin(principal)) return source;
  const pages = pagesOf(source);
  const filtered: AsyncGenerator<RecordedEvent> & Partial<LogSubscription> = {
    async next() {
      for (;;) {
        const step = await source.next();
        if (step.done || (await mayReadEvent(principal, step.value, services))) return step;
      }
    },
    // A page at a time: what the principal may read of each page the source holds.
    ...(pages && {
      async [nextPage]() {
        for (;;) {
          const step = await pages();
          if (step.done) return step;
          const readable = await Promise.all(step.value.map((event) => mayReadEvent(principal, event, services)));
          const mine = readable.every(Boolean) ? step.value : partOfPage(step.value, step.value.filter((_, index) => readable[index]));
          if (mine.length > 0) return { done: false, value: mine };
        }
      },
    }),
    return: (value) => source.return(value),
    throw: (error) => source.throw(error),
    [Symbol.asyncIterator]() {
      return filtered;
    },
  } as AsyncGenerator<RecordedEvent>;
  return filtered;
};

/**
 * A cache of facts that never change once true (an account's owner, a transfer's accounts),
 * bounded: the oldest entries go first.
 */
export class FactCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max = 100_000) {}

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const known = this.entries.get(key);
    if (known !== undefined) return known;
    const loaded = await load();
    if (loaded === undefined) return undefined;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, loaded);
    return loaded;
  }
}

