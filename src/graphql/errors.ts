import { GraphQLError } from 'graphql';
import {
  AlreadyExistsError,
  ConcurrencyConflictError,
  DomainError,
  type ErrorCode,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '../eventstore/errors.js';
import { builder } from './builder.js';

const kernelCodes: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The input broke a rule; nothing was written.',
  NOT_FOUND: 'The aggregate does not exist.',
  ALREADY_EXISTS: 'An aggregate with this id exists already.',
  CONCURRENCY_CONFLICT: 'The aggregate is not at the expected version (or kept changing under retries).',
  ILLEGAL_STATE: 'The aggregate is in a state that does not allow this command.',
};

/** Access is refused as a top-level error (`extensions.code`), not a result member: the same codes, listed here for clients. */
const accessCodes = {
  UNAUTHENTICATED: 'The token is missing (where one is needed), malformed, expired or not signed by a trusted key; nothing was written.',
  FORBIDDEN: 'The token lacks the right: its scopes, or the aggregate is someone else’s; nothing was written.',
};

const codes = new Map<string, string>([...Object.entries(kernelCodes), ...Object.entries(accessCodes)]);

/** Adds a module's own error code (e.g. INSUFFICIENT_FUNDS) to the `ErrorCode` enum, before the schema is built. */
export const registerErrorCode = (code: string, description: string): void => {
  codes.set(code, description);
};

let errorCodeEnum: ReturnType<typeof defineErrorCodes> | undefined;

const defineErrorCodes = () =>
  builder.enumType('ErrorCode', {
    description: 'A stable, machine-readable reason for a failed command.',
    values: Object.fromEntries([...codes].map(([code, description]) => [code, { value: code, description }])) as Record<
      string,
      { value: string; description: string }
    >,
  });

/** Defines `ErrorCode` with every code registered so far: the schema's assembly calls it once, after the modules. */
export const implementErrorCodes = (): void => {
  errorCodeEnum ??= defineErrorCodes();
};

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'What every expected failure of a command has: a stable code and a readable message.',
  fields: (t) => ({
    // A thunk: the enum is defined once every module has registered its codes.
    code: t.field({ type: errorCodeEnum!, description: 'Stable; safe to branch on.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'For people; may change wording.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input broke a rule; nothing was written.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    field: t.string({
      nullable: true,
      description: 'The input field at fault, when there is one.',
      resolve: (e) => e.field ?? null,
    }),
  }),
});

/** An error type with nothing but `code` and `message`. */
const plainErrorType = (error: new (message: string) => DomainError, name: string, description: string) =>
  builder.objectType(error, {
    name,
    description,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof error,
    fields: () => ({}),
  });

plainErrorType(NotFoundError, 'NotFoundError', 'The aggregate does not exist.');
plainErrorType(AlreadyExistsError, 'AlreadyExistsError', 'An aggregate with this id exists already.');
plainErrorType(IllegalStateError, 'IllegalStateError', 'The aggregate is in a state that does not allow this command.');

builder.objectType(ConcurrencyConflictError, {
  name: 'ConcurrencyConflictError',
  description: 'The aggregate was not at `expectedVersion`; reload it and decide again.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConcurrencyConflictError,
  fields: (t) => ({
    expectedVersion: t.int({
      nullable: true,
      description: 'The version the command expected (null: any).',
      resolve: (e) => e.expectedVersion ?? null,
    }),
    actualVersion: t.int({
      nullable: true,
      description: 'The version found (null: the stream does not exist).',
      resolve: (e) => e.actualVersion ?? null,
    }),
  }),
});

/** A query argument that breaks a rule becomes a client error with a code, never a masked one. */
export const userInputError = (error: unknown): never => {
  if (error instanceof DomainError) {
    throw new GraphQLError(error.message, { extensions: { code: error.code } });
  }
  throw error;
};
