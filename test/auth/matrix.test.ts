import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { schema } from '../../src/graphql/schema.js';
import { useApp } from '../helpers/app.js';
import { postAs, roles, useSecuredServer } from '../helpers/auth.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every operation of the schema, run as nobody, as a reader, as a writer who does not own the
 * account, as the account's owner and as an admin (issue 14). The table below names what each
 * role gets; a root field missing from it fails the test.
 */
const app = await useApp({ processManagers: [] });
const { base, port } = await useSecuredServer(app);
const as = await roles();

type Role = 'nobody' | 'reader' | 'writer' | 'owner' | 'admin';
type Outcome = 'ok' | 'UNAUTHENTICATED' | 'FORBIDDEN';
const header = (role: Role) => (role === 'nobody' ? undefined : as[role]);

const admin = (query: string, variables: Record<string, unknown> = {}) => postAs(base, as.admin, query, variables);

/** Ada's account, opened by an admin for her (owner `ada`), with money on it. */
const adaAccount = async () =>
  (await admin(`mutation { openAccount(input: { owner: "ada", currency: "EUR", initialBalance: "100" }) { ... on OpenAccountSuccess { account { id } } } }`))
    .body.data.openAccount.account.id as string;

/** A transfer between two of Ada's accounts: hers alone. */
const adaTransfer = async () => {
  const [from, to] = [await adaAccount(), await adaAccount()];
  const answer = await admin(
    `mutation ($from: ID!, $to: ID!) { transferMoney(input: { fromAccountId: $from, toAccountId: $to, amount: "1" }) { ... on TransferMoneySuccess { moneyTransfer { id } } } }`,
    { from, to },
  );
  return answer.body.data.transferMoney.moneyTransfer.id as string;
};

const transaction = async () =>
  (await admin(`mutation { createTransaction(input: { currency: "EUR", amount: "1" }) { ... on CreateTransactionSuccess { transaction { id } } } }`)).body.data
    .createTransaction.transaction.id as string;
const organization = async () =>
  (
    await admin(
      `mutation { registerOrganization(input: { name: "Org", registrationNumber: "", vatNumber: "", vatIsIntraCom: false, country: "BE", createdBy: "root" }) { ... on RegisterOrganizationSuccess { organization { id } } } }`,
    )
  ).body.data.registerOrganization.organization.id as string;
const order = async () =>
  (await admin(`mutation { createOrder(input: { name: "Order" }) { ... on CreateOrderSuccess { order { id } } } }`)).body.data.createOrder.order.id as string;

/** Rights for shared aggregates (transactions, organizations, orders): by scope alone. */
const sharedRead: Record<Role, Outcome> = { nobody: 'UNAUTHENTICATED', reader: 'ok', writer: 'ok', owner: 'ok', admin: 'ok' };
const sharedWrite: Record<Role, Outcome> = { nobody: 'UNAUTHENTICATED', reader: 'FORBIDDEN', writer: 'ok', owner: 'ok', admin: 'ok' };
/** Rights on Ada's account and transfers: hers and the admins'. */
const ownedRead: Record<Role, Outcome> = { nobody: 'UNAUTHENTICATED', reader: 'FORBIDDEN', writer: 'FORBIDDEN', owner: 'ok', admin: 'ok' };
const ownedWrite = ownedRead;

type Case = { readonly expect: Record<Role, Outcome>; readonly run: () => Promise<{ query: string; variables?: Record<string, unknown> }> };

const queries: Record<string, Case> = {
  account: { expect: ownedRead, run: async () => ({ query: `query ($id: ID!) { account(id: $id) { id balance } }`, variables: { id: await adaAccount() } }) },
  accounts: { expect: sharedRead, run: async () => ({ query: `{ accounts(first: 5) { edges { node { id owner } } } }` }) },
  moneyTransfer: {
    expect: ownedRead,
    run: async () => ({ query: `query ($id: ID!) { moneyTransfer(id: $id) { id status } }`, variables: { id: await adaTransfer() } }),
  },
  moneyTransfers: { expect: sharedRead, run: async () => ({ query: `{ moneyTransfers(first: 5) { edges { node { id } } } }` }) },
  transaction: { expect: sharedRead, run: async () => ({ query: `query ($id: ID!) { transaction(id: $id) { id } }`, variables: { id: await transaction() } }) },
  transactions: { expect: sharedRead, run: async () => ({ query: `{ transactions(first: 5) { edges { node { id } } } }` }) },
  organization: { expect: sharedRead, run: async () => ({ query: `query ($id: ID!) { organization(id: $id) { id } }`, variables: { id: await organization() } }) },
  organizations: { expect: sharedRead, run: async () => ({ query: `{ organizations(first: 5) { edges { node { id } } } }` }) },
  order: { expect: sharedRead, run: async () => ({ query: `query ($id: ID!) { order(id: $id) { id } }`, variables: { id: await order() } }) },
  orders: { expect: sharedRead, run: async () => ({ query: `{ orders(first: 5) { edges { node { id } } } }` }) },
  accountVersion: {
    expect: ownedRead,
    run: async () => ({ query: `query ($id: ID!) { accountVersion(id: $id, version: 1) { id balance } }`, variables: { id: await adaAccount() } }),
  },
  moneyTransferVersion: {
    expect: ownedRead,
    run: async () => ({ query: `query ($id: ID!) { moneyTransferVersion(id: $id, version: 1) { id status } }`, variables: { id: await adaTransfer() } }),
  },
  transactionVersion: {
    expect: sharedRead,
    run: async () => ({ query: `query ($id: ID!) { transactionVersion(id: $id, version: 1) { id } }`, variables: { id: await transaction() } }),
  },
  organizationVersion: {
    expect: sharedRead,
    run: async () => ({ query: `query ($id: ID!) { organizationVersion(id: $id, version: 1) { id } }`, variables: { id: await organization() } }),
  },
  orderVersion: {
    expect: sharedRead,
    run: async () => ({ query: `query ($id: ID!) { orderVersion(id: $id, version: 1) { id } }`, variables: { id: await order() } }),
  },
  node: { expect: ownedRead, run: async () => ({ query: `query ($id: ID!) { node(id: $id) { id } }`, variables: { id: await adaAccount() } }) },
  events: { expect: sharedRead, run: async () => ({ query: `{ events(first: 5) { edges { node { id } } } }` }) },
  stream: { expect: ownedRead, run: async () => ({ query: `query ($id: ID!) { stream(aggregateId: $id) { id } }`, variables: { id: await adaAccount() } }) },
};

const mutations: Record<string, Case> = {
  openAccount: {
    // Opening one's own account: every writer may.
    expect: sharedWrite,
    run: async () => ({ query: `mutation { openAccount(input: { currency: "EUR", initialBalance: "0" }) { __typename } }` }),
  },
  creditAccount: {
    expect: ownedWrite,
    run: async () => ({
      query: `mutation ($id: ID!) { creditAccount(input: { accountId: $id, amount: "1" }) { __typename } }`,
      variables: { id: await adaAccount() },
    }),
  },
  debitAccount: {
    expect: ownedWrite,
    run: async () => ({
      query: `mutation ($id: ID!) { debitAccount(input: { accountId: $id, amount: "1" }) { __typename } }`,
      variables: { id: await adaAccount() },
    }),
  },
  closeAccount: {
    expect: ownedWrite,
    run: async () => ({ query: `mutation ($id: ID!) { closeAccount(input: { accountId: $id }) { __typename } }`, variables: { id: await adaAccount() } }),
  },
  transferMoney: {
    expect: ownedWrite,
    run: async () => ({
      query: `mutation ($from: ID!, $to: ID!) { transferMoney(input: { fromAccountId: $from, toAccountId: $to, amount: "1" }) { __typename } }`,
      variables: { from: await adaAccount(), to: await adaAccount() },
    }),
  },
  createTransaction: {
    expect: sharedWrite,
    run: async () => ({ query: `mutation { createTransaction(input: { currency: "EUR", amount: "1" }) { __typename } }` }),
  },
  completeTransaction: {
    expect: sharedWrite,
    run: async () => ({
      query: `mutation ($id: ID!) { completeTransaction(input: { id: $id, doneBy: "x" }) { __typename } }`,
      variables: { id: await transaction() },
    }),
  },
  registerOrganization: {
    expect: sharedWrite,
    run: async () => ({
      query: `mutation { registerOrganization(input: { name: "O", registrationNumber: "", vatNumber: "", vatIsIntraCom: false, country: "BE", createdBy: "x" }) { __typename } }`,
    }),
  },
  updateOrganization: {
    expect: sharedWrite,
    run: async () => ({
      query: `mutation ($id: ID!) { updateOrganization(input: { id: $id, name: "New", updatedBy: "x" }) { __typename } }`,
      variables: { id: await organization() },
    }),
  },
  createOrder: { expect: sharedWrite, run: async () => ({ query: `mutation { createOrder(input: { name: "O" }) { __typename } }` }) },
  processOrder: {
    expect: sharedWrite,
    run: async () => ({ query: `mutation ($id: ID!) { processOrder(input: { id: $id }) { __typename } }`, variables: { id: await order() } }),
  },
};

const subscriptions: Record<string, Case> = {
  events: { expect: sharedRead, run: async () => ({ query: `subscription { events { id } }` }) },
  accountChanged: { expect: ownedRead, run: async () => ({ query: `subscription ($id: ID!) { accountChanged(id: $id) { id } }`, variables: { id: await adaAccount() } }) },
  moneyTransferChanged: {
    expect: ownedRead,
    run: async () => ({ query: `subscription ($id: ID!) { moneyTransferChanged(id: $id) { id } }`, variables: { id: await adaTransfer() } }),
  },
  transactionChanged: {
    expect: sharedRead,
    run: async () => ({ query: `subscription ($id: ID!) { transactionChanged(id: $id) { id } }`, variables: { id: await transaction() } }),
  },
  organizationChanged: {
    expect: sharedRead,
    run: async () => ({ query: `subscription ($id: ID!) { organizationChanged(id: $id) { id } }`, variables: { id: await organization() } }),
  },
  orderChanged: { expect: sharedRead, run: async () => ({ query: `subscription ($id: ID!) { orderChanged(id: $id) { id } }`, variables: { id: await order() } }) },
};

const eventCount = async () => (await app.services.db.execute<{ n: number }>(sql`select count(*)::int as n from es.events`))[0]!.n;

const roleNames: Role[] = ['nobody', 'reader', 'writer', 'owner', 'admin'];

/** What an answer amounts to: ok, or the code of its first error. */
const outcomeOf = (body: { data?: any; errors?: readonly { extensions?: { code?: string } }[] }): string =>
  body.errors?.length ? String(body.errors[0]!.extensions?.code) : 'ok';

describe('the access matrix', () => {
  it('names every query, mutation and subscription of the schema', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(Object.keys(queries).sort());
    expect(Object.keys(schema.getMutationType()!.getFields()).sort()).toEqual(Object.keys(mutations).sort());
    expect(Object.keys(schema.getSubscriptionType()!.getFields()).sort()).toEqual(Object.keys(subscriptions).sort());
  });

  for (const [kind, cases] of [
    ['query', queries],
    ['mutation', mutations],
  ] as const) {
    it.each(Object.entries(cases))(`${kind} %s, as each role`, async (_, { expect: expected, run }) => {
      const seen: Record<string, string> = {};
      for (const role of roleNames) {
        const { query, variables } = await run();
        const before = await eventCount();
        const answer = await postAs(base, header(role), query, variables);
        seen[role] = outcomeOf(answer.body);
        // Refused: nothing written.
        if (seen[role] !== 'ok') expect(await eventCount(), `${role} wrote while refused`).toBe(before);
        if (seen[role] === 'UNAUTHENTICATED') expect(answer.status).toBe(401);
        // A mutation's own failures are result members: the command was allowed to run.
        if (kind === 'mutation' && seen[role] === 'ok') expect(Object.values(answer.body.data)[0]).toMatchObject({ __typename: expect.stringMatching(/Success$/) });
      }
      expect(seen).toEqual(expected);
    });
  }

  it.each(Object.entries(subscriptions))('subscription %s over graphql-ws, as each role', async (_, { expect: expected, run }) => {
    const seen: Record<string, string> = {};
    for (const role of roleNames) {
      const authorization = header(role);
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: authorization ? { authorization } : {},
      });
      try {
        const { query, variables } = await run();
        const listening = app.services.relay.listenerCount;
        let answer: string | undefined;
        const stop = client.subscribe(
          { query, ...(variables && { variables }) },
          {
            next: (value) => void (answer ??= outcomeOf(value)),
            error: (error) => void (answer ??= Array.isArray(error) ? outcomeOf({ errors: error }) : `closed ${String((error as { code?: number }).code)}`),
            complete: () => undefined,
          },
        );
        await waitFor(() => answer !== undefined || app.services.relay.listenerCount > listening, `${role} to be answered or to listen`);
        seen[role] = answer ?? 'ok';
        stop();
        await waitFor(() => app.services.relay.listenerCount <= listening, `${role}'s subscription to stop listening`);
      } finally {
        await client.dispose();
      }
    }
    expect(seen).toEqual(expected);
  });

  it('shows a reader and a writer only their own accounts, and an admin everyone’s', async () => {
    const id = await adaAccount();
    const list = async (role: Role) =>
      ((await postAs(base, header(role), `{ accounts(first: 500) { edges { node { id owner } } } }`)).body.data.accounts.edges as { node: { id: string; owner: string } }[]).map(
        (edge) => edge.node,
      );
    expect((await list('owner')).every((account) => account.owner === 'ada')).toBe(true);
    expect((await list('owner')).map((account) => account.id)).toContain(id);
    expect((await list('reader')).map((account) => account.id)).not.toContain(id);
    expect((await list('writer')).every((account) => account.owner === 'walt')).toBe(true);
    expect((await list('admin')).map((account) => account.id)).toContain(id);
  });

  it('lets a writer open only their own account: owner is their sub, naming someone else is FORBIDDEN', async () => {
    const own = await postAs(base, as.writer, `mutation { openAccount(input: { currency: "EUR", initialBalance: "0" }) { ... on OpenAccountSuccess { account { owner } } } }`);
    expect(own.body.data.openAccount.account.owner).toBe('walt');
    const other = await postAs(base, as.writer, `mutation { openAccount(input: { owner: "ada", currency: "EUR", initialBalance: "0", id: "${newId('acc')}" }) { __typename } }`);
    expect(outcomeOf(other.body)).toBe('FORBIDDEN');
    const forAda = await postAs(base, as.admin, `mutation { openAccount(input: { owner: "ada", currency: "EUR", initialBalance: "0" }) { ... on OpenAccountSuccess { account { owner } } } }`);
    expect(forAda.body.data.openAccount.account.owner).toBe('ada');
  });
});
