/**
 * `npm run token -- --sub ada --scope "cairn:read cairn:write" [--expires 1h]`: prints a
 * development token signed with CAIRN_JWT_SECRET (HS256), with CAIRN_JWT_ISSUER and
 * CAIRN_JWT_AUDIENCE when set. Send it as `authorization: Bearer <token>`.
 */
import { parseArgs } from 'node:util';
import { mintToken, parseDuration, parseScopeList } from '../auth/mint.js';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      scope: { type: 'string', default: 'cairn:read cairn:write' },
      expires: { type: 'string', default: '1h' },
    },
  });
  const secret = process.env.CAIRN_JWT_SECRET;
  if (!secret) throw new Error('set CAIRN_JWT_SECRET (the server must use the same one)');
  if (!values.sub) throw new Error('--sub is required: the principal, e.g. --sub ada');
  const token = await mintToken({
    secret,
    sub: values.sub,
    scope: parseScopeList(values.scope!),
    expiresIn: parseDuration(values.expires!),
    ...(process.env.CAIRN_JWT_ISSUER && { issuer: process.env.CAIRN_JWT_ISSUER }),
    ...(process.env.CAIRN_JWT_AUDIENCE && { audience: process.env.CAIRN_JWT_AUDIENCE }),
  });
  process.stdout.write(`${token}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
