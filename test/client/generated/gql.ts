/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) {\n      __typename\n      ... on OpenAccountSuccess { account { id owner currency balance status version } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) {\n      __typename\n      ... on CreditAccountSuccess { account { id balance version } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.CreditAccountDocument,
    "\n  mutation TransferMoney($input: TransferMoneyInput!) {\n    transferMoney(input: $input) {\n      __typename\n      ... on TransferMoneySuccess { moneyTransfer { id status amount version } }\n      ... on Error { code message }\n    }\n  }\n": typeof types.TransferMoneyDocument,
    "\n  query AccountById($id: ID!) {\n    account(id: $id) { id owner currency balance status version }\n  }\n": typeof types.AccountByIdDocument,
    "\n  query MoneyTransferById($id: ID!) {\n    moneyTransfer(id: $id) { id status failureReason amount version }\n  }\n": typeof types.MoneyTransferByIdDocument,
    "\n  subscription AccountChanged($id: ID!) {\n    accountChanged(id: $id) { id balance status version }\n  }\n": typeof types.AccountChangedDocument,
    "\n  subscription MoneyTransferChanged($id: ID!) {\n    moneyTransferChanged(id: $id) { id status failureReason version }\n  }\n": typeof types.MoneyTransferChangedDocument,
    "\n  subscription Events($after: String, $fromStart: Boolean, $aggregateId: ID, $aggregateType: String, $types: [String!]) {\n    events(after: $after, fromStart: $fromStart, aggregateId: $aggregateId, aggregateType: $aggregateType, types: $types) {\n      __typename id position aggregateId aggregateType version type occurredAt\n      ... on AccountCredited { amount }\n      ... on AccountDebited { amount }\n      ... on MoneyTransferFailed { reason }\n    }\n  }\n": typeof types.EventsDocument,
};
const documents: Documents = {
    "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) {\n      __typename\n      ... on OpenAccountSuccess { account { id owner currency balance status version } }\n      ... on Error { code message }\n    }\n  }\n": types.OpenAccountDocument,
    "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) {\n      __typename\n      ... on CreditAccountSuccess { account { id balance version } }\n      ... on Error { code message }\n    }\n  }\n": types.CreditAccountDocument,
    "\n  mutation TransferMoney($input: TransferMoneyInput!) {\n    transferMoney(input: $input) {\n      __typename\n      ... on TransferMoneySuccess { moneyTransfer { id status amount version } }\n      ... on Error { code message }\n    }\n  }\n": types.TransferMoneyDocument,
    "\n  query AccountById($id: ID!) {\n    account(id: $id) { id owner currency balance status version }\n  }\n": types.AccountByIdDocument,
    "\n  query MoneyTransferById($id: ID!) {\n    moneyTransfer(id: $id) { id status failureReason amount version }\n  }\n": types.MoneyTransferByIdDocument,
    "\n  subscription AccountChanged($id: ID!) {\n    accountChanged(id: $id) { id balance status version }\n  }\n": types.AccountChangedDocument,
    "\n  subscription MoneyTransferChanged($id: ID!) {\n    moneyTransferChanged(id: $id) { id status failureReason version }\n  }\n": types.MoneyTransferChangedDocument,
    "\n  subscription Events($after: String, $fromStart: Boolean, $aggregateId: ID, $aggregateType: String, $types: [String!]) {\n    events(after: $after, fromStart: $fromStart, aggregateId: $aggregateId, aggregateType: $aggregateType, types: $types) {\n      __typename id position aggregateId aggregateType version type occurredAt\n      ... on AccountCredited { amount }\n      ... on AccountDebited { amount }\n      ... on MoneyTransferFailed { reason }\n    }\n  }\n": types.EventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) {\n      __typename\n      ... on OpenAccountSuccess { account { id owner currency balance status version } }\n      ... on Error { code message }\n    }\n  }\n"): (typeof documents)["\n  mutation OpenAccount($input: OpenAccountInput!) {\n    openAccount(input: $input) {\n      __typename\n      ... on OpenAccountSuccess { account { id owner currency balance status version } }\n      ... on Error { code message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) {\n      __typename\n      ... on CreditAccountSuccess { account { id balance version } }\n      ... on Error { code message }\n    }\n  }\n"): (typeof documents)["\n  mutation CreditAccount($input: CreditAccountInput!) {\n    creditAccount(input: $input) {\n      __typename\n      ... on CreditAccountSuccess { account { id balance version } }\n      ... on Error { code message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TransferMoney($input: TransferMoneyInput!) {\n    transferMoney(input: $input) {\n      __typename\n      ... on TransferMoneySuccess { moneyTransfer { id status amount version } }\n      ... on Error { code message }\n    }\n  }\n"): (typeof documents)["\n  mutation TransferMoney($input: TransferMoneyInput!) {\n    transferMoney(input: $input) {\n      __typename\n      ... on TransferMoneySuccess { moneyTransfer { id status amount version } }\n      ... on Error { code message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountById($id: ID!) {\n    account(id: $id) { id owner currency balance status version }\n  }\n"): (typeof documents)["\n  query AccountById($id: ID!) {\n    account(id: $id) { id owner currency balance status version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MoneyTransferById($id: ID!) {\n    moneyTransfer(id: $id) { id status failureReason amount version }\n  }\n"): (typeof documents)["\n  query MoneyTransferById($id: ID!) {\n    moneyTransfer(id: $id) { id status failureReason amount version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AccountChanged($id: ID!) {\n    accountChanged(id: $id) { id balance status version }\n  }\n"): (typeof documents)["\n  subscription AccountChanged($id: ID!) {\n    accountChanged(id: $id) { id balance status version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MoneyTransferChanged($id: ID!) {\n    moneyTransferChanged(id: $id) { id status failureReason version }\n  }\n"): (typeof documents)["\n  subscription MoneyTransferChanged($id: ID!) {\n    moneyTransferChanged(id: $id) { id status failureReason version }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Events($after: String, $fromStart: Boolean, $aggregateId: ID, $aggregateType: String, $types: [String!]) {\n    events(after: $after, fromStart: $fromStart, aggregateId: $aggregateId, aggregateType: $aggregateType, types: $types) {\n      __typename id position aggregateId aggregateType version type occurredAt\n      ... on AccountCredited { amount }\n      ... on AccountDebited { amount }\n      ... on MoneyTransferFailed { reason }\n    }\n  }\n"): (typeof documents)["\n  subscription Events($after: String, $fromStart: Boolean, $aggregateId: ID, $aggregateType: String, $types: [String!]) {\n    events(after: $after, fromStart: $fromStart, aggregateId: $aggregateId, aggregateType: $aggregateType, types: $types) {\n      __typename id position aggregateId aggregateType version type occurredAt\n      ... on AccountCredited { amount }\n      ... on AccountDebited { amount }\n      ... on MoneyTransferFailed { reason }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;