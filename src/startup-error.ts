/**
 * A reason the process cannot start that an operator fixes (a port in use, a data directory
 * another server uses, a wrong password): its message is the one line the process prints
 * before it exits with code 1, so it says what is wrong and where, with no stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

type ErrorFields = { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown; severity?: unknown; message?: unknown };

const connectReasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  CONNECT_TIMEOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Where a database URL points, without its credentials: `host:port/database`. */
export const databaseAddress = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'the configured address (DATABASE_URL is not a valid URL)';
  }
};

const firstLine = (value: unknown): string => String(value).split('\n')[0]!.trim();

/**
 * The one line a start-up failure prints: what went wrong and where, never a stack trace,
 * a password or a query parameter. `databaseAt` is where the database was expected.
 */
export const describeStartupFailure = (error: unknown, databaseAt: string): string => {
  if (error instanceof StartupError) return error.message;
  const fields = (typeof error === 'object' && error !== null ? error : {}) as ErrorFields;
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  if (fields.syscall === 'listen') {
    const where = `port ${String(fields.port)} on ${String(fields.address)}`;
    if (code === 'EADDRINUSE') return `${where} is already in use`;
    if (code === 'EACCES') return `not allowed to listen on ${where} (EACCES)`;
    return `cannot listen on ${where}: ${code ?? firstLine(fields.message)}`;
  }
  if (code && code in connectReasons) return `cannot connect to the database at ${databaseAt}: ${connectReasons[code]}`;
  // PostgreSQL's own errors (postgres.js's PostgresError): its message names no parameter.
  if (typeof fields.severity === 'string' && code) {
    return `the database at ${databaseAt} answered ${code}: ${firstLine(fields.message)}`;
  }
  const name = error instanceof Error ? error.name : 'error';
  return `cairn could not start: ${name}: ${firstLine(error instanceof Error ? error.message : error)}`;
};
