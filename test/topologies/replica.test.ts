import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { lsnPattern } from '../../src/db/read-path.js';
import { runMigrations } from '../../src/db/migrate.js';
import { testLogger, useHttpServer } from '../helpers/app.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { useReplicatedCluster } from '../helpers/replica.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A real streaming replica (pg_basebackup -R from Debian's PostgreSQL binaries) behind
 * DATABASE_READ_URL: queries and subscription catch-up read it; commands, cursor checks and
 * process managers stay on the primary; a mutation's token buys read-your-writes.
 */
const cluster = await useReplicatedCluster();
await runMigrations(cluster.primaryUrl);
const app = await startApp({
  databaseUrl: cluster.primaryUrl,
  readUrl: cluster.replicaUrl,
  readWaitMs: 300,
  logger: testLogger,
  relayPollMs: 100,
  processManagers: [],
});
afterAll(() => app.close());
const { base } = await useHttpServer(app);
const replica = postgres(cluster.replicaUrl, { max: 1, onnotice: () => undefined });
afterAll(() => replica.end());

type Answer = { data?: any; errors?: unknown[]; extensions?: { readAfter?: string; readFrom?: string } };
const post = async (query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { 'cairn-read-after': token }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer;
};

const open = `mutation { openAccount(input: { owner: "replica", currency: "EUR", initialBalance: "0" }) {
  ... on OpenAccountSuccess { account { id version events { edges { node { position } } } } } } }`;
const credit = `mutation ($id: ID!) { creditAccount(input: { accountId: $id, amount: "1" }) {
  ... on CreditAccountSuccess { account { version balance events { edges { node { version } } } } } } }`;
const read = `query ($id: ID!) { account(id: $id) { version balance } }`;

const opened = async () => {
  const answer = await post(open, {});
  const { events, ...account } = answer.data.openAccount.account as { id: string; version: number; events: { edges: { node: { position: string } }[] } };
  return { ...account, events: events.edges.map((edge) => edge.node) };
};
/** Stops or resumes the replica's replay: its data stands still at what it has. */
const replay = async (on: boolean) => {
  if (on) await replica`select pg_wal_replay_resume()`;
  else await replica`select pg_wal_replay_pause()`;
};

describe('a read replica (DATABASE_READ_URL)', () => {
  it('answers a mutation from the primary with a token, and a query with it reads its write on the replica', async () => {
    const answer = await post(open, {});
    expect(answer.extensions?.readAfter).toMatch(lsnPattern);
    const { id } = answer.data.openAccount.account;
    const query = await post(read, { id }, answer.extensions!.readAfter);
    expect(query.data.account).toEqual({ version: 1, balance: '0' });
    expect(query.extensions?.readFrom).toBe('replica');
  });

  it('reads queries from the replica; a token that the replica has not replayed is read from the primary after the wait', async () => {
    const { id } = await opened();
    await waitFor(async () => (await post(read, { id })).data.account !== null, 'the replica to have the account');
    await replay(false);
    try {
      const credited = await post(credit, { id });
      // The mutation's own answer comes from the primary, nested fields included.
      expect(credited.data.creditAccount.account).toMatchObject({ version: 2, balance: '1', events: { edges: [{ node: { version: 1 } }, { node: { version: 2 } }] } });
      expect((await post(read, { id })).data.account).toEqual({ version: 1, balance: '0' });
      const started = performance.now();
      const fresh = await post(read, { id }, credited.extensions!.readAfter);
      expect(fresh.data.account).toEqual({ version: 2, balance: '1' });
      expect(fresh.extensions?.readFrom).toBe('primary');
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await replay(true);
    }
    await waitFor(async () => (await post(read, { id })).data.account.version === 2, 'the replica to catch up');
  });

  it('never answers a query with its token with an older version (200 writes, each read at once)', async () => {
    const { id } = await opened();
    const waits: number[] = [];
    let stale = 0;
    for (let n = 2; n <= 201; n++) {
      const { extensions } = await post(credit, { id });
      const started = performance.now();
      const { data } = await post(read, { id }, extensions!.readAfter);
      waits.push(performance.now() - started);
      if (data.account.version !== n) stale += 1;
    }
    expect(stale).toBe(0);
    waits.sort((a, b) => a - b);
    console.log(`[measure] read-your-writes query through the replica: p50 ${waits[100]!.toFixed(1)} ms, p99 ${waits[197]!.toFixed(1)} ms (request included)`);
  });

  it('never lets a subscription’s catch-up skip what the replica has not replayed', async () => {
    const { id, events } = await opened();
    await replay(false);
    try {
      for (let n = 0; n < 20; n++) await post(credit, { id });
      await app.services.relay.settle();
      // Catch-up from the first event to the relay's cursor: the replica does not have them.
      const sse = await openHttpSse<{ events: { version: number } }>(
        base,
        `subscription ($id: ID!, $after: String) { events(aggregateId: $id, after: $after) { version } }`,
        { id, after: events[0]!.position },
      );
      await waitFor(() => sse.payloads.length === 20, 'all twenty credits');
      expect(sse.payloads.map((payload) => payload.data!.events.version)).toEqual(Array.from({ length: 20 }, (_, n) => n + 2));
      sse.close();
    } finally {
      await replay(true);
    }
  });
});
