import { useEffect, useState, type FormEvent } from 'react';
import type { Client } from 'graphql-ws';
import { useMutation, useQuery, useSubscription } from 'urql';
import { graphql } from './gql';
import type { AccountsQuery } from './gql/graphql';
import { formatMoney } from './money';

export const accountsQuery = graphql(`
  query Accounts {
    accounts(first: 50) { edges { node { id owner currency balance status version } } }
  }
`);

const AccountChanged = graphql(`
  subscription AccountChanged($id: ID!) {
    accountChanged(id: $id) { id balance status version }
  }
`);

const OpenAccount = graphql(`
  mutation OpenAccount($input: OpenAccountInput!) {
    openAccount(input: $input) {
      __typename
      ... on OpenAccountSuccess { account { id owner currency balance status version } }
      ... on Error { code message }
    }
  }
`);

export type Account = AccountsQuery['accounts']['edges'][number]['node'];

/**
 * urql's document cache refetches a query when a mutation answers a type the query's last result
 * held; an empty list holds no Account, so the list names the type itself.
 */
export const accountsContext = { additionalTypenames: ['Account'] };

/**
 * One account, its balance live: the list's row until `accountChanged` pushes a newer version
 * (each push is the account as of one committed change, versions only go up).
 */
const AccountRow = ({ account }: { account: Account }) => {
  const [{ data }] = useSubscription({ query: AccountChanged, variables: { id: account.id } });
  const pushed = data?.accountChanged;
  const current = pushed && pushed.version > account.version ? { ...account, ...pushed } : account;
  return (
    <tr data-account={current.id}>
      <td>{current.owner}</td>
      <td className="balance" data-testid={`balance-${current.id}`}>
        {formatMoney(current.balance, current.currency)}
      </td>
      <td>{current.status}</td>
      <td>v{current.version}</td>
      <td>
        <code>{current.id}</code>
      </td>
    </tr>
  );
};

const OpenAccountForm = () => {
  const [owner, setOwner] = useState('');
  const [initialBalance, setInitialBalance] = useState('100.00');
  const [{ data, fetching }, openAccount] = useMutation(OpenAccount);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // Without a name, cairn makes the token's holder (`sub`) the owner; an open cairn needs one.
    void openAccount({ input: { ...(owner.trim() && { owner: owner.trim() }), currency: 'EUR', initialBalance } });
  };
  const result = data?.openAccount;
  return (
    <form onSubmit={submit} aria-label="Open an account">
      <input aria-label="Owner" placeholder="owner (with a token: you)" value={owner} onChange={(e) => setOwner(e.target.value)} />
      <input aria-label="Initial balance" value={initialBalance} onChange={(e) => setInitialBalance(e.target.value)} />
      <span>EUR</span>
      <button disabled={fetching}>Open account</button>
      {result && 'code' in result && <span role="alert">{result.message}</span>}
    </form>
  );
};

/**
 * The accounts with live balances. Opening an account refetches the list (urql's document cache
 * drops the queries that hold an Account when a mutation answers one), and so does every
 * reconnect of the WebSocket: `accountChanged` pushes only the changes after it subscribed, so
 * the list is read again to cover what changed while the connection was down.
 */
export const AccountList = ({ ws }: { ws: Client }) => {
  const [{ data, error }, refetch] = useQuery({ query: accountsQuery, context: accountsContext });
  useEffect(() => ws.on('connected', (_socket, _payload, wasRetry) => wasRetry && refetch({ requestPolicy: 'network-only' })), [ws, refetch]);
  const accounts = data?.accounts.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="accounts-title">
      <h2 id="accounts-title">Accounts</h2>
      {error && <p role="alert">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Owner</th>
            <th>Balance</th>
            <th>Status</th>
            <th>Version</th>
            <th>Id</th>
          </tr>
        </thead>
        <tbody>
          {accounts.map((account) => (
            <AccountRow key={account.id} account={account} />
          ))}
        </tbody>
      </table>
      <OpenAccountForm />
    </section>
  );
};
