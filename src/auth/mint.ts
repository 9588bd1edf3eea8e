import { SignJWT } from 'jose';
import { scopes, type Scope } from './principal.js';

export type MintOptions = {
  readonly secret: string;
  readonly sub: string;
  readonly scope: readonly Scope[];
  /** Seconds until it expires. */
  readonly expiresIn: number;
  readonly issuer?: string;
  readonly audience?: string;
};

/** An HS256 token for development and tests, as `npm run token` prints it. */
export const mintToken = (options: MintOptions): Promise<string> => {
  let jwt = new SignJWT({ scope: options.scope.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.expiresIn);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
};

/** `"1h"`, `"30m"`, `"45s"`, `"2d"` or plain seconds. */
export const parseDuration = (text: string): number => {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`--expires takes a duration like 1h, 30m or 3600, got "${text}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
};

/** The scopes of a `--scope` value; an unknown one is an error, not silence. */
export const parseScopeList = (text: string): Scope[] =>
  text
    .split(/\s+/)
    .filter(Boolean)
    .map((scope) => {
      if (!(scopes as readonly string[]).includes(scope)) throw new Error(`unknown scope "${scope}"; scopes are ${scopes.join(', ')}`);
      return scope as Scope;
    });
