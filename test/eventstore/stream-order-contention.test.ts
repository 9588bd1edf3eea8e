import { describe, expect, it } from 'vitest';
import { useApp, useHttpServer } from '../helpers/app.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { waitFor } from '../helpers/wait.js';

const app = await useApp({ relayPollMs: 100, processManagers: [] });
const { base } = await useHttpServer(app);

const post = async (query: string, variables: Record<string, unknown>) => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
};

const open = `mutation ($input: OpenAccountInput!) { openAccount(input: $input) {
  __typename ... on OpenAccountSuccess { account { id events { edges { node { position } } } } } ... on Error { code message } } }`;
const credit = `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) {
  __typename ... on Error { code message } } }`;
const log = `query ($after: String) { events(aggregateType: "Account", after: $after, first: 500) {
  edges { node { aggregateId version } } pageInfo { hasNextPage endCursor } } }`;
const watch = `subscription ($id: ID!) { events(aggregateId: $id) { aggregateId version } }`;

type Seen = { aggregateId: string; version: number };

/** Pairs of (earlier, later) versions of one aggregate that the order puts the wrong way round. */
const inversions = (events: readonly Seen[]): string[] => {
  const last = new Map<string, number>();
  const found: string[] = [];
  for (const { aggregateId, version } of events) {
    const before = last.get(aggregateId) ?? 0;
    if (version !== before + 1) found.push(`${aggregateId}: ${before} then ${version}`);
    last.set(aggregateId, Math.max(before, version));
  }
  return found;
};

describe('an aggregate’s events in the global order, under contention', () => {
  it('keeps every account’s versions in order through 150 concurrent HTTP credits on 5 accounts', async () => {
    const opened = [];
    for (let i = 0; i < 5; i++) {
      const result = await post(open, { input: { owner: 'contention', currency: 'EUR', initialBalance: '0' } });
      opened.push(result.data!.openAccount.account as { id: string; events: { edges: { node: { position: string } }[] } });
    }
    const ids = opened.map((account) => account.id);
    const start = opened[0]!.events.edges[0]!.node.position;
    const subscribers = await Promise.all(ids.map((id) => openHttpSse<{ events: Seen }>(base, watch, { id })));
    // Subscribed before the writes: the live path (relay → fan-out) carries them, not a catch-up read.
    await waitFor(() => app.services.relay.listenerCount >= ids.length, 'the subscribers to listen');

    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, n) => post(credit, { input: { accountId: ids[n % ids.length], amount: '1' } })),
    );
    expect(answers.map((answer) => answer.data?.creditAccount.__typename)).toEqual(answers.map(() => 'CreditAccountSuccess'));

    const events: Seen[] = [{ aggregateId: ids[0]!, version: 1 }];
    for (let after: string | null = start; after !== null; ) {
      const page: { data?: any } = await post(log, { after });
      const { edges, pageInfo } = page.data!.events;
      events.push(...edges.map((edge: { node: Seen }) => edge.node).filter((event: Seen) => ids.includes(event.aggregateId)));
      after = pageInfo.hasNextPage ? pageInfo.endCursor : null;
    }
    expect(events).toHaveLength(5 + 150);
    expect(inversions(events)).toEqual([]);
    // Commands lock their stream before they have a transaction id: none had to be refused and run again.
    expect(app.services.store.streamOrderRetries).toBe(0);

    for (const subscriber of subscribers) {
      await waitFor(() => subscriber.payloads.length === 30, 'every credit to be delivered');
      subscriber.close();
      expect(inversions(subscriber.payloads.map((payload) => ({ ...payload.data!.events, version: payload.data!.events.version - 1 })))).toEqual([]);
    }
  });
});
