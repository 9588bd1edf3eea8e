import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root, runToExit, spawnCairn, type CairnProcess } from './processes.js';
import { waitFor } from './wait.js';

/** The example frontend (examples/web), with its own package.json and lockfile. */
export const exampleDir = join(root, 'examples', 'web');
const vite = join(exampleDir, 'node_modules', 'vite', 'bin', 'vite.js');

/** Installs its dependencies from its lockfile when missing or older than it, as `npm run example` does. */
export const ensureExampleInstalled = () => {
  const installed = join(exampleDir, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(exampleDir, 'package-lock.json')).mtimeMs) return;
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: exampleDir, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm ci in examples/web failed:\n${install.stderr}`);
};

/** `vite build` into `outDir`. */
export const buildExample = async (outDir: string) => {
  const { code, stderr, stdout } = await runToExit([vite, 'build', '--outDir', outDir, '--emptyOutDir', exampleDir], {}, 120_000);
  if (code !== 0) throw new Error(`vite build failed:\n${[...stdout, ...stderr].join('\n')}`);
};

/** `vite preview` of a build on `port`, proxying /graphql to `cairnUrl`; stopped after the file's tests. */
export const previewExample = async (outDir: string, port: number, cairnUrl: string): Promise<{ url: string; process: CairnProcess }> => {
  // --bypass-lock: Vite 8 allows one preview per project unless told otherwise (tests run two).
  const preview = spawnCairn([vite, 'preview', exampleDir, '--outDir', outDir, '--port', String(port), '--strictPort', '--host', '127.0.0.1', '--bypass-lock'], {
    CAIRN_URL: cairnUrl,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url).catch(() => undefined))?.ok, `vite preview at ${url}`, 30_000);
  return { url, process: preview };
};
