/** The stable codes of the store's own errors; a module adds the codes of its own errors. */
export const errorCodes = ['VALIDATION_FAILED', 'NOT_FOUND', 'ALREADY_EXISTS', 'CONCURRENCY_CONFLICT', 'ILLEGAL_STATE'] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Base of every expected failure: a stable code (upper snake case) and a message safe to show a client. */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED' as const;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
}

export class AlreadyExistsError extends DomainError {
  readonly code = 'ALREADY_EXISTS' as const;
}

export class IllegalStateError extends DomainError {
  readonly code = 'ILLEGAL_STATE' as const;
}

export class ConcurrencyConflictError extends DomainError {
  readonly code = 'CONCURRENCY_CONFLICT' as const;
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number | undefined,
    readonly actualVersion: number | undefined,
  ) {
    super(`stream ${aggregateId} was expected at version ${expectedVersion ?? 'any'} but is at ${actualVersion ?? 'none'}`);
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
