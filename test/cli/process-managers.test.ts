import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/eventstore/ids.js';
import { databaseUrl, useConnection } from '../helpers/app.js';

const run = promisify(execFile);
const { db } = useConnection({ max: 1 });

/** The command as an operator runs it, against the test database. */
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/process-managers.ts', ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl(), LOG_LEVEL: 'warn' },
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('npm run process-managers', () => {
  it('lists parked triggers with their error, and refuses an unknown command', async () => {
    const eventId = newId('evt');
    await db.execute(sql`insert into es.parked_triggers
      (consumer, transaction_id, position, event_id, event_type, process, attempts, error, failed)
      values ('cli-test-manager', '1'::xid8, ${-Date.now()}, ${eventId}, 'Probed', 'mt_x', 5, '22003: numeric field overflow', true)`);
    const listed = await cli('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`cli-test-manager  ${eventId}  Probed  process mt_x  failed 5×: 22003: numeric field overflow`);

    const wrong = await cli('explode');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('usage: npm run process-managers -- list | retry');
  });

  it('retries a manager’s parked triggers and reports what happened', async () => {
    const retried = await cli('retry', 'order-processor');
    expect(retried).toMatchObject({ code: 0, stdout: 'order-processor: 0 handled, 0 failed again, 0 still parked\n' });
  });
});
