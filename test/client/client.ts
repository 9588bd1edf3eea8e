import type { ResultOf, TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { EventsSubscription, EventsSubscriptionVariables } from './generated/graphql.js';
import { Events } from './operations.js';

/**
 * A typed client over the real graphql-sse and graphql-ws clients, the way a frontend uses them:
 * documents from `operations.ts` (typed by codegen), results typed by their document.
 */

/** What graphql-sse's and graphql-ws's clients share: `subscribe(payload, sink)` returning a stop. */
export type Transport = {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: { next(value: never): void; error(error: unknown): void; complete(): void },
  ): () => void;
};

type Result<Data> = { data?: Data | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

/** An answer with `errors`: their codes (`extensions.code`) and messages. */
export class GraphQLErrors extends Error {
  constructor(readonly errors: NonNullable<Result<unknown>['errors']>) {
    super(errors.map((error) => `${String(error.extensions?.code ?? 'ERROR')}: ${error.message}`).join('; '));
  }
  get codes(): unknown[] {
    return this.errors.map((error) => error.extensions?.code);
  }
}

type Document = TypedDocumentNode<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A query or mutation: its typed `data`, or GraphQLErrors. */
export const run = <D extends Document>(transport: Transport, document: D, variables: VariablesOf<D>): Promise<ResultOf<D>> =>
  new Promise((resolve, reject) => {
    let settled = false;
    transport.subscribe({ query: print(document), variables }, {
      next: (result: Result<ResultOf<D>>) => {
        settled = true;
        if (result.errors?.length || !result.data) reject(new GraphQLErrors(result.errors ?? []));
        else resolve(result.data);
      },
      error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
      complete: () => settled || reject(new Error('completed without a result')),
    });
  });

/** A subscription: calls `onData` with each typed result; returns the function that stops it. */
export const subscribe = <D extends Document>(
  transport: Transport,
  document: D,
  variables: VariablesOf<D>,
  onData: (data: ResultOf<D>) => void,
  onError: (error: unknown) => void = () => undefined,
): (() => void) =>
  transport.subscribe({ query: print(document), variables }, {
    next: (result: Result<ResultOf<D>>) => (result.data && !result.errors?.length ? onData(result.data) : onError(new GraphQLErrors(result.errors ?? []))),
    error: onError,
    complete: () => undefined,
  });

export type LogEvent = EventsSubscription['events'];
export type LogFilter = Omit<EventsSubscriptionVariables, 'after' | 'fromStart'>;

/**
 * Follows the event log after `after` (a `position` the app processed; absent: from the log's
 * first event), live, in commit order, with no gap and no duplicate — across reconnects too:
 * graphql-sse and graphql-ws send this very payload again when they reconnect, and by then its
 * `after` is the position of the last event delivered. Keep the last position somewhere durable
 * and pass it back after a reload. `onError` hears of errors and of a subscription the server
 * ended (the log itself never ends). Returns the function that stops following.
 */
export const followEvents = (
  transport: Transport,
  from: { after?: string | undefined; filter?: LogFilter },
  onEvent: (event: LogEvent) => void,
  onError: (error: unknown) => void = () => undefined,
): (() => void) => {
  const variables: EventsSubscriptionVariables = { ...from.filter, ...(from.after ? { after: from.after } : { fromStart: true }) };
  let stopped = false;
  const stop = transport.subscribe({ query: print(Events), variables }, {
    next: (result: Result<EventsSubscription>) => {
      if (!result.data) return onError(new GraphQLErrors(result.errors ?? []));
      variables.after = result.data.events.position;
      delete variables.fromStart;
      onEvent(result.data.events);
    },
    error: onError,
    // The log never ends: unless we stopped it, a completed subscription is one the server ended.
    complete: () => stopped || onError(new Error('the server ended the event log subscription')),
  });
  return () => {
    stopped = true;
    stop();
  };
};
