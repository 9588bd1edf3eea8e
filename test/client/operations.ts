import { graphql } from './generated/index.js';

/**
 * The operations a frontend runs, typed by `npm run codegen` (see codegen.ts). Every result
 * union is read with `__typename` and `... on Error`, so a wrong id is a typed `NotFoundError`,
 * never an empty object.
 */

export const OpenAccount = graphql(`
  mutation OpenAccount($input: OpenAccountInput!) {
    openAccount(input: $input) {
      __typename
      ... on OpenAccountSuccess { account { id owner currency balance status version } }
      ... on Error { code message }
    }
  }
`);

export const CreditAccount = graphql(`
  mutation CreditAccount($input: CreditAccountInput!) {
    creditAccount(input: $input) {
      __typename
      ... on CreditAccountSuccess { account { id balance version } }
      ... on Error { code message }
    }
  }
`);

export const TransferMoney = graphql(`
  mutation TransferMoney($input: TransferMoneyInput!) {
    transferMoney(input: $input) {
      __typename
      ... on TransferMoneySuccess { moneyTransfer { id status amount version } }
      ... on Error { code message }
    }
  }
`);

export const AccountById = graphql(`
  query AccountById($id: ID!) {
    account(id: $id) { id owner currency balance status version }
  }
`);

export const MoneyTransferById = graphql(`
  query MoneyTransferById($id: ID!) {
    moneyTransfer(id: $id) { id status failureReason amount version }
  }
`);

export const AccountChanged = graphql(`
  subscription AccountChanged($id: ID!) {
    accountChanged(id: $id) { id balance status version }
  }
`);

export const MoneyTransferChanged = graphql(`
  subscription MoneyTransferChanged($id: ID!) {
    moneyTransferChanged(id: $id) { id status failureReason version }
  }
`);

/** The global log, from `after` (or from the start), then live: what `followEvents` resumes. */
export const Events = graphql(`
  subscription Events($after: String, $fromStart: Boolean, $aggregateId: ID, $aggregateType: String, $types: [String!]) {
    events(after: $after, fromStart: $fromStart, aggregateId: $aggregateId, aggregateType: $aggregateType, types: $types) {
      __typename id position aggregateId aggregateType version type occurredAt
      ... on AccountCredited { amount }
      ... on AccountDebited { amount }
      ... on MoneyTransferFailed { reason }
    }
  }
`);
