import KSUID from 'ksuid';
import { expect } from 'vitest';
import type { GraphQLServer } from '../../../src/server.js';
import { execute, subscribeSse } from '../../helpers/graphql.js';
import { waitFor } from '../../helpers/wait.js';

/** GraphQL documents and small clients shared by the accounts and money-transfers tests. */
export type Json = Record<string, any>;

const accountFields = 'id owner currency balance status version';

export const openDoc = `mutation ($input: OpenAccountInput!) {
  openAccount(input: $input) {
    __typename
    ... on OpenAccountSuccess { account { ${accountFields} openedAt updatedAt events { edges { node { type version } } } } }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}`;

const changeDoc = (name: string, input: string, success: string) => `mutation ($input: ${input}!) {
  ${name}(input: $input) {
    __typename
    ... on ${success} { account { ${accountFields} } }
    ... on Error { code message }
    ... on ValidationError { field }
    ... on ConcurrencyConflictError { expectedVersion actualVersion }
    ... on InsufficientFundsError { accountId requested balance version }
  }
}`;

export const creditDoc = changeDoc('creditAccount', 'CreditAccountInput', 'CreditAccountSuccess').replace(
  '... on InsufficientFundsError { accountId requested balance version }',
  '',
);
export const debitDoc = changeDoc('debitAccount', 'DebitAccountInput', 'DebitAccountSuccess');
export const closeDoc = changeDoc('closeAccount', 'CloseAccountInput', 'CloseAccountSuccess').replace(
  '... on InsufficientFundsError { accountId requested balance version }',
  '',
);

export const accountDoc = `query ($id: ID!) {
  account(id: $id) { ${accountFields} }
}`;

/** A past version, fields as the live account's (its own `<id>@<version>` identity aside). */
export const accountVersionDoc = `query ($id: ID!, $version: Int!) {
  accountVersion(id: $id, version: $version) { ${accountFields.replace(/\bid\b/, 'id: accountId')} }
}`;

export const transferDoc = `mutation ($input: TransferMoneyInput!) {
  transferMoney(input: $input) {
    __typename
    ... on TransferMoneySuccess { moneyTransfer { id status amount currency version failureReason fromAccount { id } toAccount { id } } }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}`;

const transferFields = `status failureReason amount currency version
    fromAccount { id balance } toAccount { id balance }`;

export const transferQueryDoc = `query ($id: ID!) {
  moneyTransfer(id: $id) { id ${transferFields} }
}`;

export const transferVersionQueryDoc = `query ($id: ID!, $version: Int!) {
  moneyTransferVersion(id: $id, version: $version) { id: moneyTransferId ${transferFields} }
}`;

export const uniqueKey = () => `key-${KSUID.randomSync().string}`;

/** The operations of one app, each failing loudly on a GraphQL-level error. */
export const accountClient = (yoga: GraphQLServer) => {
  const run = async (document: string, variables: Json, field: string, headers: Record<string, string> = {}) => {
    const response = await execute(yoga, document, variables, headers);
    expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
    return response.data![field] as Json;
  };
  const client = {
    open: (input: Json, headers?: Record<string, string>) => run(openDoc, { input }, 'openAccount', headers),
    credit: (input: Json) => run(creditDoc, { input }, 'creditAccount'),
    debit: (input: Json) => run(debitDoc, { input }, 'debitAccount'),
    close: (input: Json) => run(closeDoc, { input }, 'closeAccount'),
    account: (id: string, atVersion?: number) =>
      (atVersion === undefined
        ? run(accountDoc, { id }, 'account')
        : run(accountVersionDoc, { id, version: atVersion }, 'accountVersion')) as Promise<Json | null>,
    transfer: (input: Json, headers?: Record<string, string>) => run(transferDoc, { input }, 'transferMoney', headers),
    moneyTransfer: (id: string, atVersion?: number) =>
      (atVersion === undefined
        ? run(transferQueryDoc, { id }, 'moneyTransfer')
        : run(transferVersionQueryDoc, { id, version: atVersion }, 'moneyTransferVersion')) as Promise<Json | null>,
    /** Opens an account and returns its id. */
    async opened(initialBalance: string, currency = 'EUR', owner = 'alice'): Promise<string> {
      const result = await client.open({ owner, currency, initialBalance });
      expect(result.__typename, JSON.stringify(result)).toBe('OpenAccountSuccess');
      return result.account.id as string;
    },
    async balance(id: string): Promise<string> {
      const account = await client.account(id);
      expect(account).not.toBeNull();
      return account!.balance as string;
    },
    /** Requests a transfer and returns its id. */
    async transferred(fromAccountId: string, toAccountId: string, amount: string, extra: Json = {}): Promise<string> {
      const result = await client.transfer({ fromAccountId, toAccountId, amount, ...extra });
      expect(result.__typename, JSON.stringify(result)).toBe('TransferMoneySuccess');
      return result.moneyTransfer.id as string;
    },
  };
  return client;
};

/** An SSE subscription read in the background (yoga starts it once someone reads), closed by `close`. */
export const watch = async (yoga: GraphQLServer, query: string, variables: Json, field: string) => {
  const subscription = await subscribeSse(yoga, query, variables);
  const pushed: Json[] = [];
  const reading = (async () => {
    try {
      for (;;) {
        const [next] = await subscription.take(1);
        expect(next!.errors).toBeUndefined();
        pushed.push(next!.data![field] as Json);
      }
    } catch {
      // the stream ended or was closed
    }
  })();
  return {
    pushed,
    until: (done: (last: Json | undefined) => boolean, what: string) =>
      waitFor(() => done(pushed.at(-1)), what),
    async close() {
      await subscription.close();
      await reading;
    },
  };
};
