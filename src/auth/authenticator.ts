import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { GraphQLError } from 'graphql';
import type { Logger } from '../logger.js';
import { nobody, openPrincipal, parseScopes, type Principal } from './principal.js';

/** How tokens are checked: none (the server runs open), a shared HS256 secret, or a JWKS URL. */
export type AuthConfig =
  | { readonly mode: 'open' }
  | {
      readonly mode: 'jwt';
      /** HS256, for development and tests. */
      readonly secret?: string;
      /** RS256/ES256 keys, fetched and cached. */
      readonly jwksUrl?: string;
      readonly issuer?: string;
      readonly audience?: string;
    };

export type Authenticator = {
  /** False when the server runs open: every request is `openPrincipal`. */
  readonly enabled: boolean;
  /**
   * The principal of an `authorization` value (`Bearer <jwt>`): nobody when absent; a
   * GraphQL error with code UNAUTHENTICATED (HTTP 401) when malformed, expired or not signed by
   * a trusted key. The message never says which: no detail of the verification leaks.
   */
  authenticate(authorization: string | null | undefined): Promise<Principal>;
};

export const unauthenticated = (message = 'The token is missing, malformed, expired or not signed by a key this server trusts.') =>
  new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } } });

const bearer = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export const openAuthenticator: Authenticator = { enabled: false, authenticate: async () => openPrincipal };

export const createAuthenticator = (config: AuthConfig, logger: Logger): Authenticator => {
  if (config.mode === 'open') return openAuthenticator;
  const key: Uint8Array | JWTVerifyGetKey | undefined = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
    : config.secret !== undefined
      ? new TextEncoder().encode(config.secret)
      : undefined;
  if (!key) throw new Error('authentication needs CAIRN_JWT_SECRET or CAIRN_JWKS_URL');
  const algorithms = config.jwksUrl ? ['RS256', 'ES256'] : ['HS256'];
  return {
    enabled: true,
    async authenticate(authorization) {
      if (authorization === null || authorization === undefined || authorization === '') return nobody;
      const token = bearer.exec(authorization)?.[1];
      if (!token) throw unauthenticated();
      try {
        const { payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          ...(config.issuer !== undefined && { issuer: config.issuer }),
          ...(config.audience !== undefined && { audience: config.audience }),
          requiredClaims: ['sub'],
        });
        if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 200) throw unauthenticated();
        return {
          sub: payload.sub,
          scopes: parseScopes(payload.scope),
          open: false,
          ...(typeof payload.exp === 'number' && { expiresAt: payload.exp * 1000 }),
        };
      } catch (error) {
        if (error instanceof GraphQLError) throw error;
        // Why, for the operator at debug; the client learns only that the token was refused.
        if (error instanceof errors.JOSEError) logger.debug('a token was refused', { reason: error.code });
        else logger.warn('a token could not be checked', { error });
        throw unauthenticated();
      }
    },
  };
};
