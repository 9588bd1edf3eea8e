/** The only reader of process.env: validated, typed configuration. */
import { defaultReadGapMs } from './eventstore/relay.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type Config = {
  readonly port: number;
  readonly host: string;
  /** Absent: start an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** Safety poll of the relay, covering lost notifications. */
  readonly relayPollMs: number;
  /** The least time between two relay reads a stream of doorbells asks for (batching under load). */
  readonly relayReadGapMs: number;
  /** Live events held for one slow subscriber before it goes back to reading the table. */
  readonly subscriberBuffer: number;
  /** Named (prepared) statements; off for poolers that cannot keep them, e.g. PgBouncer in transaction mode. */
  readonly preparedStatements: boolean;
  /** Warn when a transaction holds the commit-safe fence for longer than this. */
  readonly fenceWarnMs: number;
};

const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase() as LogLevel;
  if (!logLevels.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  return {
    port: integer('PORT', env.PORT, 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.CAIRN_DATA_DIR || '.data',
    logLevel,
    relayPollMs: integer('CAIRN_RELAY_POLL_MS', env.CAIRN_RELAY_POLL_MS, 1000, 10, 60_000),
    relayReadGapMs: integer('CAIRN_RELAY_READ_GAP_MS', env.CAIRN_RELAY_READ_GAP_MS, defaultReadGapMs, 0, 1_000),
    subscriberBuffer: integer('CAIRN_SUBSCRIBER_BUFFER', env.CAIRN_SUBSCRIBER_BUFFER, 10_000, 10, 1_000_000),
    preparedStatements: !['false', '0', 'off'].includes((env.CAIRN_PREPARED_STATEMENTS ?? '').toLowerCase()),
    fenceWarnMs: integer('CAIRN_FENCE_WARN_MS', env.CAIRN_FENCE_WARN_MS, 10_000, 1, 86_400_000),
  };
};
