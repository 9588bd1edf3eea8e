/** The scopes a token may carry (its space-separated `scope` claim). */
export const scopes = ['cairn:read', 'cairn:write', 'cairn:admin'] as const;
export type Scope = (typeof scopes)[number];

/**
 * Who sends a request: the token's subject and scopes, or, when the server runs open (no key
 * configured), everyone with every right. `sub` is null for nobody and for the open server.
 */
export type Principal = {
  readonly sub: string | null;
  readonly scopes: ReadonlySet<Scope>;
  /** When its token expires (ms since the epoch): subscriptions it opened end then. */
  readonly expiresAt?: number;
  /** True when no authentication is configured: every request may do everything. */
  readonly open: boolean;
};

/** Every request of a server that runs open (no key configured). */
export const openPrincipal: Principal = { sub: null, scopes: new Set(scopes), open: true };

/** A request without a token, to a server that requires one. */
export const nobody: Principal = { sub: null, scopes: new Set(), open: false };

export const isAdmin = (principal: Principal): boolean => principal.scopes.has('cairn:admin');
export const mayRead = (principal: Principal): boolean => isAdmin(principal) || principal.scopes.has('cairn:read');
export const mayWrite = (principal: Principal): boolean => isAdmin(principal) || principal.scopes.has('cairn:write');

/** Whether the principal is `owner`: admins are everyone's. */
export const isOwner = (principal: Principal, owner: string | null | undefined): boolean =>
  isAdmin(principal) || (principal.sub !== null && owner === principal.sub);

/** The scopes of a `scope` claim that cairn knows; others are ignored. */
export const parseScopes = (claim: unknown): Set<Scope> =>
  new Set(typeof claim === 'string' ? claim.split(' ').filter((scope): scope is Scope => (scopes as readonly string[]).includes(scope)) : []);
