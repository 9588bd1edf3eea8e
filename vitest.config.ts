import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no `exports` map: Node loads its CommonJS build for our dependencies, while
    // Vite would pick the `.mjs` build for our sources. One instance of graphql, the same as in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // test/pooled/ runs through Debian's pgbouncer and fails when it is missing;
    // CAIRN_TEST_POOLER=off leaves those files out of the run (never skipped: not collected).
    exclude: ['test/bench/**', 'node_modules/**', ...(process.env.CAIRN_TEST_POOLER === 'off' ? ['test/pooled/**'] : [])],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
