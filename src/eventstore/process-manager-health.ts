import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { lagCountCap } from './lag.js';
import { countParked } from './parked-triggers.js';
import type { FailingTrigger, ProcessManagerRunner } from './process-manager.js';

/** A manager with work waiting whose checkpoint has not moved for this long is stalled. */
export const defaultStallAfterMs = 60_000;

export type ManagerStatus = 'ok' | 'retrying' | 'parked' | 'stalled';

export type ManagerHealth = {
  readonly name: string;
  /** `retrying`: a trigger fails and waits for its next attempt; `parked`: triggers wait for an operator; `stalled`: work waits and the checkpoint does not move. */
  readonly status: ManagerStatus;
  /** Committed triggers after its checkpoint, fenced or not (counted up to 10,000). */
  readonly lagEvents: number;
  /** How long ago its checkpoint last moved. */
  readonly checkpointAgeSeconds: number;
  readonly parkedTriggers: number;
  readonly failing: FailingTrigger | null;
  /** Since this process started: triggers handled and failed attempts. */
  readonly handled: number;
  readonly failures: number;
};

/** Lag and checkpoint age per manager, one statement each. */
const checkpointState = async (db: Executor, name: string, handles: readonly string[]) => {
  const [row] = await db.execute<{ lag: number; age: number }>(sql`
    select (select count(*)::int from (
              select 1 from es.events e
               where e.type in ${sql`(${sql.join(handles.map((type) => sql`${type}`), sql`, `)})`}
                 and (e.transaction_id, e.position) > (c.transaction_id, c.position)
               limit ${lagCountCap}) waiting) as lag,
           extract(epoch from now() - c.updated_at)::float8 as age
      from es.checkpoints c where c.consumer = ${name}`);
  return { lag: row?.lag ?? 0, age: row?.age ?? 0 };
};

/** The health of every process manager the runner runs: what `/health/process-managers` and `/metrics` show. */
export const processManagerHealth = async (
  db: Executor,
  runner: ProcessManagerRunner,
  stallAfterMs = defaultStallAfterMs,
): Promise<ManagerHealth[]> => {
  const parked = await countParked(db);
  const states = new Map(runner.state().map((state) => [state.name, state]));
  return Promise.all(
    runner.managers.map(async (manager) => {
      const { lag, age } = await checkpointState(db, manager.name, manager.handles);
      const state = states.get(manager.name)!;
      const parkedTriggers = parked.get(manager.name) ?? 0;
      const status: ManagerStatus =
        parkedTriggers > 0 ? 'parked' : state.failing ? 'retrying' : lag > 0 && age * 1000 > stallAfterMs ? 'stalled' : 'ok';
      return {
        name: manager.name,
        status,
        lagEvents: lag,
        checkpointAgeSeconds: Math.max(0, age),
        parkedTriggers,
        failing: state.failing,
        handled: state.handled,
        failures: state.failures,
      };
    }),
  );
};
