import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { LogLevel } from './config.js';

export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
};

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** The longest string a log line carries in one field; longer ones are cut. */
export const maxLoggedStringLength = 1_000;

/** The longest log line: a longer one keeps its time, level, message and base fields, and says how long it was. */
export const maxLogLineLength = 8_000;

const bounded = (text: string): string =>
  text.length > maxLoggedStringLength ? `${text.slice(0, maxLoggedStringLength)}… (${text.length} characters)` : text;

/** What a log line may say about an error. */
export type ErrorDescription = { readonly name: string; readonly code?: string; readonly message: string };

/**
 * An error as logs may show it: its name, code and message. A failed query is described by the
 * database's (or the driver's) own error, never by Drizzle's wrapper, whose message carries the
 * statement and every parameter (user data). Details that quote values are left out too.
 */
export const describeError = (error: unknown): ErrorDescription => {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    // A GraphQL error wrapping another says what that one says (and carries its message, parameters included).
    const original = (current as { originalError?: unknown }).originalError;
    if (current.name === 'GraphQLError' && original instanceof Error) {
      current = original;
      continue;
    }
    if (current instanceof DrizzleQueryError) {
      if (current.cause === undefined) return { name: 'DrizzleQueryError', message: 'a query failed' };
      current = current.cause;
      continue;
    }
    const code = (current as { code?: unknown }).code;
    const message = typeof code === 'string' && code.startsWith('22') ? withoutQuotedValues(current.message) : current.message;
    return { name: current.name, ...(typeof code === 'string' && { code }), message: bounded(message) };
  }
  return { name: typeof current, message: bounded(String(current)) };
};

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22) quote the offending value in their message
 * (`invalid input syntax for type integer: "…"`): what the user sent stays out of the log.
 */
const withoutQuotedValues = (message: string): string => message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"');

/** One JSON object per line on stderr, so logs stay machine-readable. Stack traces only at `debug`. */
export const createLogger = (level: LogLevel, base: Record<string, unknown> = {}): Logger => {
  const withStacks = rank[level] <= rank.debug;
  // Errors are described before stringifying: JSON.stringify would call a GraphQLError's own
  // toJSON (message and all) before a replacer could see it.
  const described = (value: unknown, depth: number): unknown => {
    if (value instanceof Error) return { ...describeError(value), ...(withStacks && value.stack && { stack: value.stack }) };
    if (depth >= 4 || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((item) => described(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, described(item, depth + 1)]));
  };
  const replacer = (_key: string, value: unknown): unknown => (typeof value === 'string' ? bounded(value) : value);
  const write = (at: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (rank[at] < rank[level]) return;
    const head = { time: new Date().toISOString(), level: at, msg: message, ...base };
    let text = JSON.stringify({ ...head, ...(fields && (described(fields, 0) as Record<string, unknown>)) }, replacer);
    if (text.length > maxLogLineLength) text = JSON.stringify({ ...head, truncatedFrom: text.length }, replacer);
    process.stderr.write(`${text}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
};

export const silentLogger: Logger = createLogger('silent');
