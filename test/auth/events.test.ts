import { describe, expect, it, onTestFinished } from 'vitest';
import { useApp } from '../helpers/app.js';
import { postAs, roles, useSecuredServer } from '../helpers/auth.js';
import { openHttpSse } from '../helpers/http-sse.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The log is read through the same rules as the projections (issue 14): the `events` query and
 * subscription and `stream` deliver only what the principal may read; admins read everything.
 */
const app = await useApp({ processManagers: [] });
const { base } = await useSecuredServer(app);
const as = await roles();

const openAccount = async (authorization: string) =>
  (await postAs(base, authorization, `mutation { openAccount(input: { currency: "EUR", initialBalance: "50" }) { ... on OpenAccountSuccess { account { id } } } }`)).body
    .data.openAccount.account.id as string;

const ada = await openAccount(as.owner);
const walt = await openAccount(as.writer);
const transfer = (
  await postAs(
    base,
    as.owner,
    `mutation ($from: ID!, $to: ID!) { transferMoney(input: { fromAccountId: $from, toAccountId: $to, amount: "5" }) { ... on TransferMoneySuccess { moneyTransfer { id } } } }`,
    { from: ada, to: walt },
  )
).body.data.transferMoney.moneyTransfer.id as string;
/** A shared aggregate's event, after all the others: everyone who reads sees it. */
const marker = (
  await postAs(base, as.admin, `mutation { createTransaction(input: { currency: "EUR", amount: "1" }) { ... on CreateTransactionSuccess { transaction { id } } } }`)
).body.data.createTransaction.transaction.id as string;

/** The aggregates whose events `authorization` reads in the whole log, page by page. */
const readableLog = async (authorization: string): Promise<string[]> => {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const answer = await postAs(base, authorization, `query ($after: String) { events(first: 500, after: $after) { edges { node { aggregateId } } pageInfo { hasNextPage endCursor } } }`, {
      after,
    });
    const { edges, pageInfo } = answer.body.data.events;
    seen.push(...edges.map((edge: { node: { aggregateId: string } }) => edge.node.aggregateId));
    if (!pageInfo.hasNextPage) return seen;
    after = pageInfo.endCursor;
  }
};

const metric = async (name: string): Promise<number> => {
  const line = (await (await fetch(`${base}/metrics`)).text()).split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
};

describe('the log, as each principal reads it', () => {
  it('gives the events query only what the principal may read', async () => {
    const owner = await readableLog(as.owner);
    expect(owner).toEqual(expect.arrayContaining([ada, transfer, marker]));
    expect(owner).not.toContain(walt);
    const receiver = await readableLog(as.writer);
    expect(receiver).toEqual(expect.arrayContaining([walt, transfer, marker]));
    expect(receiver).not.toContain(ada);
    const reader = await readableLog(as.reader);
    expect(reader).toContain(marker);
    expect(reader.filter((id) => [ada, walt, transfer].includes(id))).toEqual([]);
    expect(await readableLog(as.admin)).toEqual(expect.arrayContaining([ada, walt, transfer, marker]));
  });

  it('pages past what a principal may not read: a short page still points on with its endCursor', async () => {
    const answer = await postAs(base, as.reader, `{ events(first: 1) { edges { node { aggregateId } } pageInfo { hasNextPage endCursor } } }`);
    const { edges, pageInfo } = answer.body.data.events;
    expect(edges.length).toBeLessThanOrEqual(1);
    expect(pageInfo.hasNextPage).toBe(true);
    expect(pageInfo.endCursor).toEqual(expect.any(String));
  });

  it('gives the events subscription, from the start, only what the principal may read, a page at a time', async () => {
    const pages = await metric('cairn_subscription_pages_total');
    const sse = await openHttpSse(base, `subscription { events(fromStart: true) { aggregateId } }`, {}, undefined, { authorization: as.writer });
    onTestFinished(() => sse.close());
    await waitFor(() => sse.payloads.some((payload) => payload.data?.events?.aggregateId === marker), 'the marker event');
    const ids = sse.payloads.map((payload) => payload.data!.events.aggregateId as string);
    expect(ids).toEqual(expect.arrayContaining([walt, transfer]));
    expect(ids).not.toContain(ada);
    expect(ids).toEqual(await readableLog(as.writer));
    // What it may read, page by page: fewer steps than events.
    const taken = (await metric('cairn_subscription_pages_total')) - pages;
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(ids.length);
  });

  it('refuses stream, and a filtered subscription, for someone else’s account', async () => {
    const stream = await postAs(base, as.writer, `query ($id: ID!) { stream(aggregateId: $id) { id } }`, { id: ada });
    expect(stream.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await postAs(base, as.owner, `query ($id: ID!) { stream(aggregateId: $id) { type } }`, { id: ada });
    expect(own.body.data.stream.map((event: { type: string }) => event.type)).toContain('AccountOpened');
    // Refused before the stream starts: an SSE request answered 403, the error its one event.
    const refused = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: as.writer },
      body: JSON.stringify({ query: `subscription ($id: ID) { events(aggregateId: $id, fromStart: true) { id } }`, variables: { id: ada } }),
    });
    expect(refused.status).toBe(403);
    const text = await refused.text();
    const next = JSON.parse(/^event: next\ndata: (.*)$/m.exec(text)![1]!) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(next.errors.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(next.data).toBeUndefined();
  });

  it('shows each side of a transfer only its own account', async () => {
    const query = `query ($id: ID!) { moneyTransfer(id: $id) { fromAccountId toAccountId fromAccount { id } toAccount { id balance } } }`;
    const receiver = (await postAs(base, as.writer, query, { id: transfer })).body;
    expect(receiver.errors).toBeUndefined();
    expect(receiver.data.moneyTransfer).toEqual({ fromAccountId: ada, toAccountId: walt, fromAccount: null, toAccount: { id: walt, balance: '50' } });
    const sender = (await postAs(base, as.owner, query, { id: transfer })).body.data.moneyTransfer;
    expect([sender.fromAccount, sender.toAccount]).toEqual([{ id: ada }, null]);
    const admin = (await postAs(base, as.admin, query, { id: transfer })).body.data.moneyTransfer;
    expect([admin.fromAccount?.id, admin.toAccount?.id]).toEqual([ada, walt]);
  });

  it('records the token’s subject as every event’s actor', async () => {
    const answer = await postAs(base, as.admin, `query ($id: ID!) { stream(aggregateId: $id) { metadata } }`, { id: ada });
    expect(answer.body.data.stream.map((event: { metadata: { actor?: string } }) => event.metadata.actor)).toEqual(['ada']);
    const created = await postAs(base, as.admin, `query ($id: ID!) { stream(aggregateId: $id) { metadata } }`, { id: marker });
    expect(created.body.data.stream[0].metadata.actor).toBe('root');
  });
});
