import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { defaultLimits } from '../src/graphql/limits.js';
import { defaultClientLimits } from '../src/http/client-limits.js';

describe('configuration', () => {
  it('takes the limits of hostile input from the environment, with the documented defaults', () => {
    expect(loadConfig({}).limits).toEqual(defaultLimits);
    expect(loadConfig({}).clientLimits).toEqual(defaultClientLimits);
    const config = loadConfig({
      CAIRN_MAX_COST: '5000',
      CAIRN_MAX_DEPTH: '8',
      CAIRN_MAX_ALIASES: '10',
      CAIRN_MAX_TOKENS: '2000',
      CAIRN_MAX_RESPONSE_BYTES: '1048576',
      CAIRN_MAX_CONNECTIONS_PER_CLIENT: '1000',
      CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION: '20',
    });
    expect(config.limits).toMatchObject({ maxCost: 5_000, maxDepth: 8, maxAliases: 10, maxTokens: 2_000, maxResponseBytes: 1_048_576 });
    expect(config.clientLimits).toEqual({ maxConnectionsPerClient: 1_000, maxSubscriptionsPerConnection: 20 });
  });

  it('refuses a limit that is not a whole number in range, naming the variable', () => {
    expect(() => loadConfig({ CAIRN_MAX_COST: 'lots' })).toThrow(/CAIRN_MAX_COST must be an integer/);
    expect(() => loadConfig({ CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION: '0' })).toThrow(/CAIRN_MAX_SUBSCRIPTIONS_PER_CONNECTION/);
  });

  it('runs open without a key outside production, and in production only with CAIRN_AUTH=none', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'open' });
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs CAIRN_JWT_SECRET or CAIRN_JWKS_URL/);
    expect(loadConfig({ NODE_ENV: 'production', CAIRN_AUTH: 'none' }).auth).toEqual({ mode: 'open' });
    const secret = 's'.repeat(32);
    expect(loadConfig({ NODE_ENV: 'production', CAIRN_JWT_SECRET: secret, CAIRN_JWT_ISSUER: 'https://id', CAIRN_JWT_AUDIENCE: 'cairn' }).auth).toEqual({
      mode: 'jwt',
      secret,
      issuer: 'https://id',
      audience: 'cairn',
    });
    expect(() => loadConfig({ CAIRN_AUTH: 'none', CAIRN_JWT_SECRET: secret })).toThrow(/contradict/);
    expect(() => loadConfig({ CAIRN_JWKS_URL: 'ftp://keys' })).toThrow(/CAIRN_JWKS_URL must be an http\(s\) URL/);
  });

  it('turns GraphiQL and introspection off in production unless asked, and checks the CORS allowlist', () => {
    expect([loadConfig({}).graphiql, loadConfig({}).introspection]).toEqual([true, true]);
    const production = { NODE_ENV: 'production', CAIRN_AUTH: 'none' };
    expect([loadConfig(production).graphiql, loadConfig(production).introspection]).toEqual([false, false]);
    expect(loadConfig({ ...production, CAIRN_GRAPHIQL: 'true', CAIRN_INTROSPECTION: '1' })).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ CAIRN_CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(() => loadConfig({ CAIRN_CORS_ORIGINS: '*' })).toThrow(/CAIRN_CORS_ORIGINS/);
    expect(() => loadConfig({ CAIRN_CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CAIRN_CORS_ORIGINS/);
  });
});
