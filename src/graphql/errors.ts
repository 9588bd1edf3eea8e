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

const errorCodeDescriptions: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The input broke a rule; nothing was written.',
  NOT_FOUND: 'The aggregate does not exist.',
  ALREADY_EXISTS: 'An aggregate with this id exists already.',
  CONCURRENCY_CONFLICT: 'The aggregate is not at the expected version (or kept changing under retries).',
  INSUFFICIENT_FUNDS: 'The balance does not cover the amount.',
  ILLEGAL_STATE: 'The aggregate is in a state that does not allow this command.',
};

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'A stable, machine-readable reason for a failed command.',
  values: Object.fromEntries(
    Object.entries(errorCodeDescriptions).map(([code, description]) => [code, { value: code, description }]),
  ) as Record<ErrorCode, { value: ErrorCode; description: string }>,
});

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'What every expected failure of a command has: a stable code and a readable message.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable; safe to branch on.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'For people; may change wording.' }),
  }),
});

export const ValidationErrorType = builder.objectType(ValidationError, {
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

export const NotFoundErrorType = builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The aggregate does not exist.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: () => ({}),
});

export const AlreadyExistsErrorType = builder.objectType(AlreadyExistsError, {
  name: 'AlreadyExistsError',
  description: 'An aggregate with this id exists already.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof AlreadyExistsError,
  fields: () => ({}),
});

export const IllegalStateErrorType = builder.objectType(IllegalStateError, {
  name: 'IllegalStateError',
  description: 'The aggregate is in a state that does not allow this command.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof IllegalStateError,
  fields: () => ({}),
});

export const ConcurrencyConflictErrorType = builder.objectType(ConcurrencyConflictError, {
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

/** Errors every command can raise. */
export const commandErrors = [ValidationError, ConcurrencyConflictError];

/** A query argument that breaks a rule becomes a client error with a code, never a masked one. */
export const userInputError = (error: unknown): never => {
  if (error instanceof DomainError) {
    throw new GraphQLError(error.message, { extensions: { code: error.code } });
  }
  throw error;
};
