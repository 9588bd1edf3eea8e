import { DomainError } from '../../eventstore/errors.js';

/**
 * A debit above the balance. Unlike other domain errors it is raised *after* the command
 * committed: the declined debit is recorded (AccountDebitDeclined) and the caller is told.
 */
export class InsufficientFundsError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS' as const;
  constructor(
    readonly accountId: string,
    readonly requested: string,
    readonly balance: string,
    readonly version: number,
  ) {
    super(`the balance ${balance} does not cover ${requested}`);
  }
}
