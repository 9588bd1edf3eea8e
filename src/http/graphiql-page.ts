import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

type Encoding = 'br' | 'gzip' | 'identity';

/** The inline scripts' hashes, so that the policy allows exactly them and nothing injected. */
const scriptHashes = (html: string): string[] =>
  [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`);

/**
 * GraphiQL's policy: its own inline scripts (by hash) and same-origin requests only; styles inline
 * (the editor injects its own), workers from blobs (the editor's language service), never framed.
 */
export const graphiqlPolicy = (html: string): string =>
  [
    "default-src 'none'",
    `script-src 'self' ${scriptHashes(html).join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

const compressors = {
  br: (body: Buffer) => promisify(brotliCompress)(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
  gzip: (body: Buffer) => promisify(gzip)(body, { level: 9 }),
};

/**
 * GraphiQL's page (about 9 MB: the editor and its language service inline), rendered once,
 * compressed once per encoding (gzip 2.4 MB in half a second; brotli 1.9 MB in about 4 s, so it
 * is served once ready and gzip until then), served with its own policy.
 */
export const graphiqlPage = (render: () => Promise<string>) => {
  type Page = { html: Buffer; policy: string; etag: string };
  let page: Promise<Page> | undefined;
  const compressed = new Map<Encoding, Promise<Buffer>>();
  /** Rendered on the first request: the bundle is loaded then, not at start-up. */
  const load = (): Promise<Page> =>
    (page ??= render().then((text) => {
      const html = Buffer.from(text);
      return { html, policy: graphiqlPolicy(text), etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"` };
    }));
  const ready = new Set<Encoding>(['identity']);
  const body = async (encoding: Encoding): Promise<Buffer> => {
    const { html } = await load();
    if (encoding === 'identity') return html;
    let pending = compressed.get(encoding);
    if (!pending) {
      compressed.set(encoding, (pending = compressors[encoding](html)));
      void pending.then(() => ready.add(encoding));
    }
    return pending;
  };
  /** The best encoding the client takes that is ready now (brotli starts compressing on first ask). */
  const choose = (accepted: string): Encoding => {
    const br = /\bbr\b/.test(accepted);
    const gzip = /\bgzip\b/.test(accepted);
    if (br && !ready.has('br')) void body('br');
    if (br && ready.has('br')) return 'br';
    return gzip ? 'gzip' : br ? 'br' : 'identity';
  };
  return {
    /** A browser asking for a page at the GraphQL path (yoga's own test: GET and HTML accepted). */
    wanted: (req: IncomingMessage): boolean => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html'),
    async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const encoding = choose(String(req.headers['accept-encoding'] ?? ''));
      const { policy, etag } = await load();
      res.setHeader('content-security-policy', policy);
      res.setHeader('vary', 'accept-encoding');
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304).end();
        return;
      }
      const content = await body(encoding);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': content.length,
        ...(encoding !== 'identity' && { 'content-encoding': encoding }),
      });
      res.end(content);
    },
  };
};
