import { ValidationError } from './errors.js';
import type { LogPosition } from './types.js';

const version = 'c1';
const body = /^c1:(\d{1,20}):(\d{1,19})$/;

/** An opaque, URL-safe cursor for a position in the global log; stable across restarts and instances. */
export const encodeCursor = (at: LogPosition): string =>
  Buffer.from(`${version}:${at.transactionId}:${at.position}`, 'utf8').toString('base64url');

export class InvalidCursorError extends ValidationError {
  constructor(cursor: string) {
    super(`"${cursor.slice(0, 80)}" is not a cursor of this event log`, 'after');
  }
}

/** A well-formed cursor that names no event of this log: issued by another database, or made up. */
export class UnknownCursorError extends ValidationError {
  constructor(cursor: string) {
    super(`"${cursor.slice(0, 80)}" names no event of this event log; was it issued by another database?`, 'after');
  }
}

/** The largest transaction id (xid8) and position (bigint) PostgreSQL can hold. */
const maxTransactionId = 2n ** 64n - 1n;
const maxPosition = 2n ** 63n - 1n;

export const decodeCursor = (cursor: string): LogPosition => {
  const match = body.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new InvalidCursorError(cursor);
  const at = { transactionId: BigInt(match[1]!), position: BigInt(match[2]!) };
  if (at.transactionId > maxTransactionId || at.position > maxPosition || encodeCursor(at) !== cursor) {
    throw new InvalidCursorError(cursor);
  }
  return at;
};

export const compareLogPositions = (a: LogPosition, b: LogPosition): number =>
  a.transactionId === b.transactionId
    ? Number(a.position - b.position)
    : a.transactionId < b.transactionId
      ? -1
      : 1;

/** Before every event: reading after it starts at the beginning of the log. */
export const logStart: LogPosition = { transactionId: 0n, position: 0n };
