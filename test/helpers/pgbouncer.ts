import { afterAll } from 'vitest';
import { databaseUrl } from './app.js';
import { startPgBouncer, type Pooler } from './pgbouncer-process.js';

/**
 * PgBouncer in front of the test database (or `target`), stopped after the file's tests, for the
 * files under test/pooled/. Those files fail (never skip) when the binary is missing:
 * `CAIRN_TEST_POOLER=off` leaves them out of the run instead (see vitest.config.ts).
 */
export const usePgBouncer = async (target: string = databaseUrl(), options: { poolSize?: number } = {}): Promise<Pooler> => {
  const pooler = await startPgBouncer(target, { ...options, whoNeedsIt: 'the pooled tests (CAIRN_TEST_POOLER=off leaves them out of the run)' });
  afterAll(() => pooler.stop());
  return pooler;
};
