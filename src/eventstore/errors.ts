/** The stable codes clients see; the GraphQL `ErrorCode` enum mirrors this list. */
export const errorCodes = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONCURRENCY_CONFLICT',
  'INSUFFICIENT_FUNDS',
  'ILLEGAL_STATE',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Base of every expected failure: a stable code and a message safe to show a client. */
export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED' as const;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends DomainError {
  readonly code = 'ALREADY_EXISTS' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyExistsError';
  }
}

export class IllegalStateError extends DomainError {
  readonly code = 'ILLEGAL_STATE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'IllegalStateError';
  }
}

export class ConcurrencyConflictError extends DomainError {
  readonly code = 'CONCURRENCY_CONFLICT' as const;
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
  ) {
    super(
      `stream ${aggregateId} was expected at version ${expectedVersion ?? 'any'} but is at ${actualVersion ?? 'none'}`,
    );
    this.name = 'ConcurrencyConflictError';
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/** Store-level misuse (a programming error, never shown to clients). */
export class EventStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreError';
  }
}
