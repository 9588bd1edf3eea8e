import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import type { Logger } from '../logger.js';
import { advisoryLock, lockSpaces, type PostgresEventStore } from './postgres-store.js';
import { failureText, triggerFor, type ProcessManager } from './process-manager.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import { parkedTriggers } from './tables.js';

export type ParkedTrigger = typeof parkedTriggers.$inferSelect;

/** Parked triggers, oldest first; of one manager when `consumer` is given. */
export const listParked = (db: Executor, consumer?: string): Promise<ParkedTrigger[]> =>
  db
    .select()
    .from(parkedTriggers)
    .where(consumer === undefined ? undefined : eq(parkedTriggers.consumer, consumer))
    .orderBy(asc(parkedTriggers.consumer), asc(parkedTriggers.transactionId), asc(parkedTriggers.position));

/** Parked triggers per manager (managers with none are absent). */
export const countParked = async (db: Executor): Promise<Map<string, number>> => {
  const rows = await db.execute<{ consumer: string; count: number }>(
    sql`select consumer, count(*)::int as count from es.parked_triggers group by consumer`,
  );
  return new Map(rows.map((row) => [row.consumer, row.count]));
};

export type RetryOutcome = { readonly handled: number; readonly failed: number; readonly remaining: number };

/**
 * Runs a manager's parked triggers again, oldest first, each in its own transaction under the
 * manager's lock (so it waits for a running step, and no step runs meanwhile). A handled trigger
 * leaves the table. One that fails again stays parked with the new error, and the later
 * triggers of its process stay behind it. Triggers the runner parks meanwhile (later ones of a
 * process being retried) are taken in a further pass.
 */
export const retryParked = async (
  store: PostgresEventStore,
  manager: ProcessManager,
  options: { readonly clock: () => Date; readonly logger: Logger },
): Promise<RetryOutcome> => {
  const blocked = new Set<string>();
  let handled = 0;
  let failed = 0;
  for (let progress = true; progress; ) {
    progress = false;
    for (const parked of await store.transaction((session) => listParked(session.tx, manager.name))) {
      if (blocked.has(parked.process)) continue;
      try {
        const done = await store.transaction(async (session) => {
          await session.tx.execute(advisoryLock(lockSpaces.processManager, manager.name));
          const [row] = await session.tx.execute<EventRow>(
            sql`select ${eventColumns} from es.events e where e.position = ${parked.position}`,
          );
          const still = await session.tx
            .delete(parkedTriggers)
            .where(and(eq(parkedTriggers.consumer, manager.name), eq(parkedTriggers.eventId, parked.eventId)))
            .returning({ eventId: parkedTriggers.eventId });
          if (!row || still.length === 0) return false;
          await manager.handle(session, triggerFor(manager, toRecordedEvent(row), options.clock, options.logger));
          return true;
        });
        if (done) {
          handled += 1;
          progress = true;
        }
      } catch (error) {
        failed += 1;
        blocked.add(parked.process);
        options.logger.warn('a parked trigger failed again; it stays parked', { processManager: manager.name, eventId: parked.eventId, error });
        await store.transaction((session) =>
          session.tx
            .update(parkedTriggers)
            .set({ attempts: sql`${parkedTriggers.attempts} + 1`, error: failureText(error), failed: true })
            .where(and(eq(parkedTriggers.consumer, manager.name), eq(parkedTriggers.eventId, parked.eventId))),
        );
      }
    }
  }
  const remaining = (await store.transaction((session) => listParked(session.tx, manager.name))).length;
  return { handled, failed, remaining };
};
