import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { accountsContext, accountsQuery } from './Accounts';
import type { LogEvent } from './follow-events';
import { graphql } from './gql';
import type { MoneyTransferStatus } from './gql/graphql';

const TransferMoney = graphql(`
  mutation TransferMoney($input: TransferMoneyInput!) {
    transferMoney(input: $input) {
      __typename
      ... on TransferMoneySuccess { moneyTransfer { id status amount currency version } }
      ... on Error { code message }
    }
  }
`);

const MoneyTransferChanged = graphql(`
  subscription MoneyTransferChanged($id: ID!) {
    moneyTransferChanged(id: $id) { id status failureReason version }
  }
`);

const MoneyTransfer = graphql(`
  query MoneyTransfer($id: ID!) {
    moneyTransfer(id: $id) { id status failureReason version }
  }
`);

type Step = { readonly status: MoneyTransferStatus; readonly failureReason: string | null; readonly version: number };

/**
 * One transfer's saga, step by step: CREATED (the mutation's answer), then DEBITED, then
 * COMPLETED or FAILED with its reason, as `moneyTransferChanged` pushes them. A step the saga took
 * before the subscription started is in `moneyTransfer(id)`, read as the subscription opens. The
 * server pushes only versions after the one its stream had when the subscription started, and
 * graphql-ws does not say when that was, so the read can come first: the event log, which has no
 * gaps, is the safety net — an event of this transfer newer than what is shown reads it again.
 */
const TransferProgress = ({ created, log }: { created: Step & { id: string; amount: string }; log: readonly LogEvent[] }) => {
  const [steps, setSteps] = useState<readonly Step[]>([created]);
  const add = (step: Step | null | undefined) => {
    if (step) setSteps((steps) => (steps.some((known) => known.version >= step.version) ? steps : [...steps, step]));
  };
  const [{ data: pushed }] = useSubscription({ query: MoneyTransferChanged, variables: { id: created.id } });
  const [{ data: read }, reread] = useQuery({ query: MoneyTransfer, variables: { id: created.id }, requestPolicy: 'network-only' });
  useEffect(() => add(pushed?.moneyTransferChanged), [pushed]);
  useEffect(() => add(read?.moneyTransfer), [read]);
  const shown = Math.max(...steps.map((step) => step.version));
  const behind = log.some((event) => event.aggregateId === created.id && event.version > shown);
  useEffect(() => {
    if (behind) reread({ requestPolicy: 'network-only' });
  }, [behind, reread]);
  const last = steps[steps.length - 1]!;
  return (
    <li data-transfer={created.id} data-status={last.status}>
      <code>{created.id}</code> {created.amount}:{' '}
      {steps.map((step) => (
        <span key={step.version} className={`step ${step.status.toLowerCase()}`}>
          {step.status}
          {step.failureReason && ` (${step.failureReason})`}
        </span>
      ))}
    </li>
  );
};

export const TransferForm = ({ log }: { log: readonly LogEvent[] }) => {
  const [{ data: accounts }] = useQuery({ query: accountsQuery, context: accountsContext });
  const open = accounts?.accounts.edges.map((edge) => edge.node).filter((account) => account.status === 'OPEN') ?? [];
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('10.00');
  const [transfers, setTransfers] = useState<(Step & { id: string; amount: string })[]>([]);
  const [problem, setProblem] = useState<string>();
  const [{ fetching }, transferMoney] = useMutation(TransferMoney);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await transferMoney({ input: { fromAccountId: from, toAccountId: to, amount } });
    const answer = result.data?.transferMoney;
    if (answer?.__typename === 'TransferMoneySuccess') {
      const { id, status, amount, currency, version } = answer.moneyTransfer;
      setTransfers((transfers) => [{ id, status, failureReason: null, version, amount: `${amount} ${currency}` }, ...transfers]);
      setProblem(undefined);
    } else {
      setProblem(answer && 'message' in answer ? `${answer.code}: ${answer.message}` : (result.error?.message ?? 'no answer'));
    }
  };

  const choose = (label: string, value: string, set: (id: string) => void) => (
    <select aria-label={label} value={value} onChange={(e) => set(e.target.value)} required>
      <option value="">{label}…</option>
      {open.map((account) => (
        <option key={account.id} value={account.id}>
          {account.owner} ({account.id.slice(0, 10)}…)
        </option>
      ))}
    </select>
  );

  return (
    <section aria-labelledby="transfer-title">
      <h2 id="transfer-title">Transfer</h2>
      <form onSubmit={(event) => void submit(event)} aria-label="Transfer money">
        {choose('From', from, setFrom)}
        {choose('To', to, setTo)}
        <input aria-label="Amount" value={amount} onChange={(e) => setAmount(e.target.value)} />
        <button disabled={fetching}>Transfer</button>
      </form>
      {problem && <p role="alert">{problem}</p>}
      <ul className="transfers">
        {transfers.map((transfer) => (
          <TransferProgress key={transfer.id} created={transfer} log={log} />
        ))}
      </ul>
    </section>
  );
};
