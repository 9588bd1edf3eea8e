import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startApp } from '../../src/app.js';
import { executeCommand } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { replay } from '../../src/eventstore/loaders.js';
import { listParked, retryParked } from '../../src/eventstore/parked-triggers.js';
import type { ProcessManager } from '../../src/eventstore/process-manager.js';
import type { PostgresSession } from '../../src/eventstore/postgres-store.js';
import type { Event } from '../../src/eventstore/types.js';
import { createLogger } from '../../src/logger.js';
import { databaseUrl, testLogger, useHttpServer } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

// A trigger type of its own, so parallel files cannot feed this manager.
const triggerType = `Parkable_${newId('t').slice(2, 12)}`;
/** Processes whose triggers fail until the "fix" below; the failure is a real database error. */
const broken = new Set<string>();
const secret = 987_654_321;

const done = { initialState: { count: 0 }, evolve: (state: { count: number }) => ({ count: state.count + 1 }) };

const manager: ProcessManager = {
  name: `parker-${triggerType}`,
  handles: [triggerType],
  processOf: (event) => String(event.data.process),
  async handle(session, trigger) {
    const process = String(trigger.event.data.process);
    // numeric(5,2) cannot hold the value: PostgreSQL refuses with 22003, the parameter holds "user data".
    if (broken.has(process)) await session.tx.execute(sql`select ${secret}::numeric(5, 2)`);
    await executeCommand(
      session,
      {
        aggregateType: 'Handled',
        aggregateId: `handled_${process}`,
        load: replay(done),
        decide: () => [{ type: 'Handled', data: { trigger: trigger.event.id } } as Event],
        evolve: done.evolve,
        respond: async () => null,
      },
      trigger.command('handle'),
    );
  },
};

const lines: string[] = [];
const write = process.stderr.write.bind(process.stderr);
vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (typeof chunk === 'string' && chunk.includes(manager.name)) {
    lines.push(chunk);
    return true;
  }
  return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
});
afterAll(() => vi.restoreAllMocks());

const app = await startApp({
  databaseUrl: databaseUrl(),
  logger: createLogger('info'),
  relayPollMs: 50,
  processManagers: [manager],
  processManagerRetry: { maxAttempts: 3, backoffMs: 20 },
});
afterAll(() => app.close());
const { base } = await useHttpServer(app);
const { store } = app.services;

const trigger = (process: string) =>
  store.transaction(async (session: PostgresSession) => {
    const { events } = await session.appendToStream(
      { aggregateId: newId('pk'), aggregateType: 'Parkable' },
      [{ type: triggerType, data: { process } }],
      { expectedVersion: 0, metadata: { correlationId: 'c', causationId: 'c' }, occurredAt: new Date() },
    );
    return events[0]!;
  });

const handledFor = async (process: string) => (await store.readStream(`handled_${process}`)).map((event) => event.data.trigger);
const health = async () => {
  const response = await fetch(`${base}/health/process-managers`);
  const body = (await response.json()) as { managers: { name: string; status: string; parkedTriggers: number }[] };
  return { status: response.status, mine: body.managers.find((entry) => entry.name === manager.name)! };
};
const metric = async (name: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{manager="${manager.name}"}`));
  return Number(line?.split(' ').at(-1));
};

describe('a process manager whose step keeps failing', () => {
  it('retries with backoff, parks the trigger and those of its process behind it, and goes on with the others', async () => {
    const stuck = `p-${newId('x').slice(2, 10)}`;
    const other = `p-${newId('x').slice(2, 10)}`;
    broken.add(stuck);
    const first = await trigger(stuck);
    const unrelated = await trigger(other);
    const behind = await trigger(stuck);

    await waitFor(async () => (await handledFor(other)).length === 1, 'the other process to be handled', 15_000);
    await waitFor(async () => (await listParked(app.services.db, manager.name)).length === 2, 'two parked triggers');
    const parked = await listParked(app.services.db, manager.name);
    expect(parked.map((row) => [row.eventId, row.failed, row.attempts])).toEqual([
      [first.id, true, 3],
      [behind.id, false, 0],
    ]);
    expect(parked[0]!.error).toBe('22003: numeric field overflow');
    expect(await handledFor(other)).toEqual([unrelated.id]);
    expect(await handledFor(stuck)).toEqual([]);

    // Operators see it: a health endpoint, metrics, and log lines with the database's own error.
    expect(await health()).toMatchObject({ status: 503, mine: { status: 'parked', parkedTriggers: 2 } });
    expect(await metric('cairn_process_manager_parked_triggers')).toBe(2);
    expect(await metric('cairn_process_manager_failures_total')).toBeGreaterThanOrEqual(3);
    const logged = lines.join('');
    expect(logged).toContain('22003');
    expect(logged).toContain('numeric field overflow');
    expect(logged).not.toContain(String(secret));
    expect(logged).not.toContain('select');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();

    // After the fix, a retry handles them in order and the manager is healthy again.
    broken.delete(stuck);
    const outcome = await retryParked(store, manager, { clock: () => new Date(), logger: testLogger });
    expect(outcome).toEqual({ handled: 2, failed: 0, remaining: 0 });
    expect(await handledFor(stuck)).toEqual([first.id, behind.id]);
    expect(await health()).toMatchObject({ status: 200, mine: { status: 'ok', parkedTriggers: 0 } });
  });

  it('keeps a trigger parked, with the new error, when its retry fails again', async () => {
    const stuck = `p-${newId('x').slice(2, 10)}`;
    broken.add(stuck);
    const first = await trigger(stuck);
    await waitFor(async () => (await listParked(app.services.db, manager.name)).some((row) => row.eventId === first.id), 'the trigger to be parked', 15_000);

    const outcome = await retryParked(store, manager, { clock: () => new Date(), logger: testLogger });
    expect(outcome).toMatchObject({ handled: 0, failed: 1, remaining: 1 });
    const [row] = await listParked(app.services.db, manager.name);
    expect(row).toMatchObject({ eventId: first.id, attempts: 4, failed: true, error: '22003: numeric field overflow' });

    broken.delete(stuck);
    expect(await retryParked(store, manager, { clock: () => new Date(), logger: testLogger })).toEqual({ handled: 1, failed: 0, remaining: 0 });
    const [handled] = await handledFor(stuck);
    expect(handled).toBe(first.id);
    const [check] = await app.services.db.execute<{ n: number }>(sql`select count(*)::int as n from es.parked_triggers where consumer = ${manager.name}`);
    expect(check!.n).toBe(0);
  });
});
