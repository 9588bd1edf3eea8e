import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { graphql } from './gql';
import type { LogEventsSubscription, LogEventsSubscriptionVariables } from './gql/graphql';

export const LogEvents = graphql(`
  subscription LogEvents($after: String, $fromStart: Boolean) {
    events(after: $after, fromStart: $fromStart) {
      __typename id position aggregateId aggregateType version type occurredAt
      ... on AccountOpened { owner currency initialBalance }
      ... on AccountCredited { amount }
      ... on AccountDebited { amount }
      ... on AccountDebitedForTransfer { amount transferId }
      ... on AccountCreditedForTransfer { amount transferId }
      ... on MoneyTransferCreated { amount fromAccountId toAccountId }
      ... on MoneyTransferFailed { reason }
    }
  }
`);

export type LogEvent = LogEventsSubscription['events'];

/**
 * Follows the event log from `after` (or from its first event), live, with no gap and no
 * duplicate, across reconnects and server restarts: graphql-ws sends this very payload again
 * when it reconnects, and by then its `after` is the position of the last event received.
 * Returns the function that stops following.
 */
export const followEvents = (
  ws: Client,
  after: string | undefined,
  onEvent: (event: LogEvent) => void,
  onError: (error: unknown) => void,
): (() => void) => {
  const variables: LogEventsSubscriptionVariables = after ? { after } : { fromStart: true };
  const payload = { query: print(LogEvents), variables };
  return ws.subscribe<LogEventsSubscription>(payload, {
    next: ({ data, errors }) => {
      if (!data) return onError(errors);
      variables.after = data.events.position;
      delete variables.fromStart;
      onEvent(data.events);
    },
    error: onError,
    complete: () => undefined,
  });
};
