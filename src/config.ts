/** The only reader of process.env: validated, typed configuration. */
import type { AuthConfig } from './auth/authenticator.js';
import { defaultReadGapMs } from './eventstore/read-gap.js';
import { defaultLimits, type Limits } from './graphql/limit-values.js';
import { defaultClientLimits, type ClientLimits } from './http/client-limits.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type Config = {
  readonly port: number;
  readonly host: string;
  /** Absent: start an embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** A direct connection for the relay's LISTEN when `databaseUrl` goes through a pooler; absent: `databaseUrl`. */
  readonly listenUrl: string | undefined;
  /** How often the relay's LISTEN connection must hear a probe back. */
  readonly listenCheckMs: number;
  /** A read replica for queries; absent: queries read the primary. */
  readonly readUrl: string | undefined;
  /** How long a query with a read-your-writes token waits for the replica before it reads the primary. */
  readonly readWaitMs: number;
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
  /** Attempts at a failing process-manager trigger before it is parked, and the first backoff (doubling). */
  readonly processManagerRetry: { readonly maxAttempts: number; readonly backoffMs: number };
  /** What one operation may ask for (README, "Security"). */
  readonly limits: Limits;
  /** Connections per client address and subscriptions per WebSocket. */
  readonly clientLimits: ClientLimits;
  /** How tokens are checked; `open` when no key is configured (README, "Security"). */
  readonly auth: AuthConfig;
  /** Origins (scheme://host[:port]) other than the server's own that browsers may call it from. */
  readonly corsOrigins: readonly string[];
  /** GraphiQL at /graphql in a browser. */
  readonly graphiql: boolean;
  /** Schema introspection (`__schema`, `__type`). */
  readonly introspection: boolean;
};

const flag = (name: string, raw: string | undefined, fallback: boolean): boolean => {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(value)) return true;
  if (['false', '0', 'off', 'no'].includes(value)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
};

const origins = (raw: string | undefined): string[] => {
  if (!raw) return [];
  return raw.split(',').map((origin) => {
    const trimmed = origin.trim();
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new Error(`CAIRN_CORS_ORIGINS must list origins like https://app.example.com, got "${trimmed}"`);
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== trimmed.replace(/\/$/, '')) {
      throw new Error(`CAIRN_CORS_ORIGINS must list origins like https://app.example.com, got "${trimmed}"`);
    }
    return url.origin;
  });
};

/**
 * Tokens: a JWKS URL or an HS256 secret. Neither: the server runs open, which production refuses
 * unless CAIRN_AUTH=none says so explicitly.
 */
const authConfig = (env: NodeJS.ProcessEnv): AuthConfig => {
  const secret = env.CAIRN_JWT_SECRET || undefined;
  const jwksUrl = env.CAIRN_JWKS_URL || undefined;
  if (env.CAIRN_AUTH && env.CAIRN_AUTH !== 'none') throw new Error(`CAIRN_AUTH may only be "none", got "${env.CAIRN_AUTH}"`);
  if (env.CAIRN_AUTH === 'none') {
    if (secret || jwksUrl) throw new Error('CAIRN_AUTH=none and a key (CAIRN_JWT_SECRET or CAIRN_JWKS_URL) contradict each other');
    return { mode: 'open' };
  }
  if (secret && jwksUrl) throw new Error('set CAIRN_JWT_SECRET or CAIRN_JWKS_URL, not both');
  if (secret !== undefined && Buffer.byteLength(secret) < 32) throw new Error('CAIRN_JWT_SECRET must be at least 32 bytes (HS256)');
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) throw new Error(`CAIRN_JWKS_URL must be an http(s) URL, got "${jwksUrl}"`);
  if (!secret && !jwksUrl) {
    if (env.NODE_ENV === 'production') {
      throw new Error('NODE_ENV=production needs CAIRN_JWT_SECRET or CAIRN_JWKS_URL; set CAIRN_AUTH=none to run without authentication');
    }
    return { mode: 'open' };
  }
  return {
    mode: 'jwt',
    ...(secret && { secret }),
    ...(jwksUrl && { jwksUrl }),
    ...(env.CAIRN_JWT_ISSUER && { issuer: env.CAIRN_JWT_ISSUER }),
    ...(env.CAIRN_JWT_AUDIENCE && { audience: env.CAIRN_JWT_AUDIENCE }),
  };
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
    listenUrl: env.CAIRN_LISTEN_URL || undefined,
    readUrl: env.DATABASE_READ_URL || undefined,
    readWaitMs: integer('CAIRN_READ_WAIT_MS', env.CAIRN_READ_WAIT_MS, 250, 0, 60_000),
    listenCheckMs: integer('CAIRN_LISTEN_CHECK_MS', env.CAIRN_LISTEN_CHECK_MS, 5_000, 50, 600_000),
    dataDir: env.CAIRN_DATA_DIR || '.data',
    logLevel,
    relayPollMs: integer('CAIRN_RELAY_POLL_MS', env.CAIRN_RELAY_POLL_MS, 1000, 10, 60_000),
    relayReadGapMs: integer('CAIRN_RELAY_READ_GAP_MS', env.CAIRN_RELAY_READ_GAP_MS, defaultReadGapMs, 0, 1_000),
    subscriberBuffer: integer('CAIRN_SUBSCRIBER_BUFFER', env.CAIRN_SUBSCRIBER_BUFFER, 10_000, 10, 1_000_000),
    preparedStatements: !['false', '0', 'off'].includes((env.CAIRN_PREPARED_STATEMENTS ?? '').toLowerCase()),
    fenceWarnMs: integer('CAIRN_FENCE_WARN_MS', env.CAIRN_FENCE_WARN_MS, 10_000, 1, 86_400_000),
    processManagerRetry: {
      maxAttempts: integer('CAIRN_PM_MAX_ATTEMPTS', env.CAIRN_PM_MAX_ATTEMPTS, 5, 1, 100),
      backoffMs: integer('CAIRN_PM_BACKOFF_MS', env.CAIRN_PM_BACKOFF_MS, 200, 1, 600_000),
    },
    auth: authConfig(env),
    corsOrigins: origins(env.CAIRN_CORS_ORIGINS),
    graphiql: flag('CAIRN_GRAPHIQL', env.CAIRN_GRAPHIQL, env.NODE_ENV !== 'production'),
    introspection: flag('CAIRN_INTROSPECTION', env.CAIRN_INTROSPECTION, env.NODE_ENV !== 'production'),
    limits: {
      maxDepth: integer('CAIRN_MAX_DEPTH', env.CAIRN_MAX_DEPTH, defaultLimits.maxDepth, 1, 100),
      maxAliases: integer('CAIRN_MAX_ALIASES', env.CAIRN_MAX_ALIASES, defaultLimits.maxAliases, 0, 1_000),
      maxTokens: integer('CAIRN_MAX_TOKENS', env.CAIRN_MAX_TOKENS, defaultLimits.maxTokens, 100, 100_000),
      maxNesting: defaultLimits.maxNesting,
      maxCost: integer('CAIRN_MAX_COST', env.CAIRN_MAX_COST, defaultLimits.maxCost, 1, 1_000_000),
      maxResponseBytes: integer('CAIRN_MAX_RESPONSE_BYTES', env.CAIRN_MAX_RESPONSE_BYTES, defaultLimits.maxResponseBytes, 1_024, 256 * 1024 * 1024),
    },
    clientLimits: {
      maxConnectionsPerClient: integer(
        'CAIRN_MAX_CONNECTIONS_PER_CLIENT',
        env.CAIRN_MAX_CONNECTIONS_PER_CLIENT,
        defaultClientLimits.maxConnectionsPerClient,
        1,
        1_000_000,
      ),
      maxSubscriptionsPerConnection: integer(
        'CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION',
        env.CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        defaultClientLimits.maxSubscriptionsPerConnection,
        1,
        100_000,
      ),
    },
  };
};
