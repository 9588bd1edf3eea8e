/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Whether an account takes commands. */
export type AccountStatus =
  /** Takes no command; transfers already in flight to it still arrive. */
  | 'CLOSED'
  /** Takes credits, debits and transfers. */
  | 'OPEN';

/** Pay money into an account. */
export type CreditAccountInput = {
  /** The account. */
  accountId: string;
  /** Greater than zero. */
  amount: string;
  /** Fail with CONCURRENCY_CONFLICT unless the account is at this version. */
  expectedVersion?: number | null | undefined;
  /** Retries with the same key return the first result and append nothing. */
  idempotencyKey?: string | null | undefined;
};

/** A stable, machine-readable reason for a failed command. */
export type ErrorCode =
  /** An aggregate with this id exists already. */
  | 'ALREADY_EXISTS'
  /** The aggregate is not at the expected version (or kept changing under retries). */
  | 'CONCURRENCY_CONFLICT'
  /** The token lacks the right: its scopes, or the aggregate is someone else’s; nothing was written. */
  | 'FORBIDDEN'
  /** The aggregate is in a state that does not allow this command. */
  | 'ILLEGAL_STATE'
  /** The balance does not cover the amount. */
  | 'INSUFFICIENT_FUNDS'
  /** The aggregate does not exist. */
  | 'NOT_FOUND'
  /** The token is missing (where one is needed), malformed, expired or not signed by a trusted key; nothing was written. */
  | 'UNAUTHENTICATED'
  /** The input broke a rule; nothing was written. */
  | 'VALIDATION_FAILED';

/** Why a transfer failed. */
export type MoneyTransferFailureReason =
  /** The source or the target account was closed. */
  | 'ACCOUNT_CLOSED'
  /** The target's balance would have reached 10^18; if the source was already debited, it was refunded. */
  | 'BALANCE_LIMIT_EXCEEDED'
  /** The source balance did not cover the amount. */
  | 'INSUFFICIENT_FUNDS';

/** Where a transfer is in the saga. */
export type MoneyTransferStatus =
  /** The target was credited. */
  | 'COMPLETED'
  /** Requested; the source is not debited yet. */
  | 'CREATED'
  /** The source was debited; the target is about to be credited. */
  | 'DEBITED'
  /** No money moved in the end; see `failureReason`. */
  | 'FAILED';

/** Open an account. */
export type OpenAccountInput = {
  /** ISO 4217 code of three capital letters. */
  currency: string;
  /** Your own `acc_` KSUID; generated when absent. */
  id?: string | null | undefined;
  /** Retries with the same key return the first result and append nothing. */
  idempotencyKey?: string | null | undefined;
  /** Zero or more. */
  initialBalance: string;
  /** Who owns it (1–200 characters). With a token: your `sub` when absent; only an admin may name someone else. Without authentication: required. */
  owner?: string | null | undefined;
};

/** Move money between two accounts of the same currency. */
export type TransferMoneyInput = {
  /** Greater than zero. */
  amount: string;
  /** The source account. */
  fromAccountId: string;
  /** Your own `mt_` KSUID; generated when absent. */
  id?: string | null | undefined;
  /** Retries with the same key return the first result and append nothing. */
  idempotencyKey?: string | null | undefined;
  /** The target account; not the source. */
  toAccountId: string;
};

export type OpenAccountMutationVariables = Exact<{
  input: OpenAccountInput;
}>;


export type OpenAccountMutation = { openAccount:
    | { __typename: 'AlreadyExistsError', code: ErrorCode, message: string }
    | { __typename: 'ConcurrencyConflictError', code: ErrorCode, message: string }
    | { __typename: 'OpenAccountSuccess', account: { id: string, owner: string, currency: string, balance: string, status: AccountStatus, version: number } }
    | { __typename: 'ValidationError', code: ErrorCode, message: string }
   };

export type CreditAccountMutationVariables = Exact<{
  input: CreditAccountInput;
}>;


export type CreditAccountMutation = { creditAccount:
    | { __typename: 'ConcurrencyConflictError', code: ErrorCode, message: string }
    | { __typename: 'CreditAccountSuccess', account: { id: string, balance: string, version: number } }
    | { __typename: 'IllegalStateError', code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'ValidationError', code: ErrorCode, message: string }
   };

export type TransferMoneyMutationVariables = Exact<{
  input: TransferMoneyInput;
}>;


export type TransferMoneyMutation = { transferMoney:
    | { __typename: 'AlreadyExistsError', code: ErrorCode, message: string }
    | { __typename: 'ConcurrencyConflictError', code: ErrorCode, message: string }
    | { __typename: 'IllegalStateError', code: ErrorCode, message: string }
    | { __typename: 'NotFoundError', code: ErrorCode, message: string }
    | { __typename: 'TransferMoneySuccess', moneyTransfer: { id: string, status: MoneyTransferStatus, amount: string, version: number } }
    | { __typename: 'ValidationError', code: ErrorCode, message: string }
   };

export type AccountByIdQueryVariables = Exact<{
  id: string;
}>;


export type AccountByIdQuery = { account: { id: string, owner: string, currency: string, balance: string, status: AccountStatus, version: number } | null };

export type MoneyTransferByIdQueryVariables = Exact<{
  id: string;
}>;


export type MoneyTransferByIdQuery = { moneyTransfer: { id: string, status: MoneyTransferStatus, failureReason: MoneyTransferFailureReason | null, amount: string, version: number } | null };

export type AccountChangedSubscriptionVariables = Exact<{
  id: string;
}>;


export type AccountChangedSubscription = { accountChanged: { id: string, balance: string, status: AccountStatus, version: number } };

export type MoneyTransferChangedSubscriptionVariables = Exact<{
  id: string;
}>;


export type MoneyTransferChangedSubscription = { moneyTransferChanged: { id: string, status: MoneyTransferStatus, failureReason: MoneyTransferFailureReason | null, version: number } };

export type EventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
  fromStart?: boolean | null | undefined;
  aggregateId?: string | null | undefined;
  aggregateType?: string | null | undefined;
  types?: Array<string> | string | null | undefined;
}>;


export type EventsSubscription = { events:
    | { __typename: 'AccountClosed', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountCredited', amount: string, id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountCreditedForTransfer', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountDebitDeclined', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountDebited', amount: string, id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountDebitedForTransfer', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountOpened', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountTransferCreditDeclined', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountTransferDebitDeclined', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'AccountTransferRefunded', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'MoneyTransferCompleted', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'MoneyTransferCreated', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'MoneyTransferDebited', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'MoneyTransferFailed', reason: MoneyTransferFailureReason, id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'OrderCreated', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'OrderProcessed', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'OrderProcessingRequested', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'OrganizationRegistered', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'OrganizationUpdated', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'TransactionCompleted', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'TransactionCreated', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
    | { __typename: 'UntypedEvent', id: string, position: string, aggregateId: string, aggregateType: string, version: number, type: string, occurredAt: string }
   };


export const OpenAccountDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"OpenAccount"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"OpenAccountInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"openAccount"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"OpenAccountSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"owner"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"balance"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<OpenAccountMutation, OpenAccountMutationVariables>;
export const CreditAccountDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreditAccount"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreditAccountInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"creditAccount"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CreditAccountSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"balance"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<CreditAccountMutation, CreditAccountMutationVariables>;
export const TransferMoneyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"TransferMoney"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TransferMoneyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"transferMoney"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"TransferMoneySuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"moneyTransfer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}}]}}]}}]} as unknown as DocumentNode<TransferMoneyMutation, TransferMoneyMutationVariables>;
export const AccountByIdDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"AccountById"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"account"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"owner"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"balance"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<AccountByIdQuery, AccountByIdQueryVariables>;
export const MoneyTransferByIdDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MoneyTransferById"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"moneyTransfer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"failureReason"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<MoneyTransferByIdQuery, MoneyTransferByIdQueryVariables>;
export const AccountChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"AccountChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"accountChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"balance"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<AccountChangedSubscription, AccountChangedSubscriptionVariables>;
export const MoneyTransferChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"MoneyTransferChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"moneyTransferChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"failureReason"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<MoneyTransferChangedSubscription, MoneyTransferChangedSubscriptionVariables>;
export const EventsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"Events"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"fromStart"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"aggregateId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"aggregateType"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"types"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"events"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"fromStart"},"value":{"kind":"Variable","name":{"kind":"Name","value":"fromStart"}}},{"kind":"Argument","name":{"kind":"Name","value":"aggregateId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"aggregateId"}}},{"kind":"Argument","name":{"kind":"Name","value":"aggregateType"},"value":{"kind":"Variable","name":{"kind":"Name","value":"aggregateType"}}},{"kind":"Argument","name":{"kind":"Name","value":"types"},"value":{"kind":"Variable","name":{"kind":"Name","value":"types"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"position"}},{"kind":"Field","name":{"kind":"Name","value":"aggregateId"}},{"kind":"Field","name":{"kind":"Name","value":"aggregateType"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"occurredAt"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AccountCredited"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"AccountDebited"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"MoneyTransferFailed"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}}]}}]}}]} as unknown as DocumentNode<EventsSubscription, EventsSubscriptionVariables>;