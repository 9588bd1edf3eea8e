import { eq, sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import { isRetryable, type CommandContext } from './command.js';
import { newId } from './ids.js';
import type { PostgresEventStore, PostgresSession } from './postgres-store.js';
import type { Relay } from './relay.js';
import { checkpoints } from './tables.js';
import { eventColumns, toRecordedEvent, type EventRow } from './rows.js';
import type { LogPosition, RecordedEvent } from './types.js';

/** What a process manager's handler gets besides the event: commands caused by that event. */
export type Trigger = {
  readonly event: RecordedEvent;
  /** A command context whose events point back at the trigger (causation) and its correlation. */
  command(commandName: string): CommandContext;
  /** For what a handler decides to drop: a trigger it can never act on should be visible. */
  readonly logger: Logger;
};

/**
 * A durable consumer of the global log that reacts to events by issuing commands. Its handler
 * runs inside the transaction that also moves its checkpoint, so each trigger takes effect
 * exactly once, across crashes and redelivery. Handlers decide what to do with expected domain
 * errors; anything they throw rolls the step back and it is tried again.
 */
export type ProcessManager = {
  /** Its checkpoint's key in `es.checkpoints`; never rename a deployed one. */
  readonly name: string;
  readonly handles: readonly string[];
  handle(session: PostgresSession, trigger: Trigger): Promise<void>;
};

export type ProcessManagerRunnerOptions = {
  readonly store: PostgresEventStore;
  readonly relay: Relay;
  readonly managers: readonly ProcessManager[];
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly pollMs: number;
  /** How long one step may take before it is abandoned and tried again (default 30 s). */
  readonly stepTimeoutMs?: number;
};

type Step = 'handled' | 'idle' | 'busy-elsewhere';

/**
 * Runs process managers one event per transaction. The checkpoint row is taken with
 * `FOR UPDATE SKIP LOCKED`, so across any number of server instances exactly one runs a given
 * process manager at a time; the others skip it until it is free.
 */
export class ProcessManagerRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly options: ProcessManagerRunnerOptions) {}

  async start(): Promise<void> {
    const { store, relay, managers } = this.options;
    for (const manager of managers) {
      await store.transaction(async (session) => {
        await session.tx
          .insert(checkpoints)
          .values({ consumer: manager.name, transactionId: '0', position: 0n })
          .onConflictDoNothing();
      });
    }
    this.unsubscribe = relay.subscribe(
      (batch) => {
        for (const manager of managers) {
          if (batch.some((event) => manager.handles.includes(event.type))) this.kick(manager);
        }
      },
      () => undefined,
    );
    this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
    await Promise.all(this.running.values());
  }

  /** Resolves when every process manager has handled everything visible now (for tests). */
  async drain(): Promise<void> {
    for (const manager of this.options.managers) {
      this.kick(manager);
      while (this.running.has(manager.name)) await this.running.get(manager.name);
    }
  }

  private poll(): void {
    if (this.stopped) return;
    for (const manager of this.options.managers) this.kick(manager);
    this.timer = setTimeout(() => this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  /** Runs the manager until it has nothing left; a kick while it runs asks for one more pass. */
  private kick(manager: ProcessManager): void {
    if (this.stopped) return;
    if (this.running.has(manager.name)) {
      this.again.add(manager.name);
      return;
    }
    const run = this.runUntilIdle(manager).finally(() => {
      this.running.delete(manager.name);
      if (this.again.delete(manager.name)) this.kick(manager);
    });
    this.running.set(manager.name, run);
  }

  private async runUntilIdle(manager: ProcessManager): Promise<void> {
    while (!this.stopped) {
      try {
        if ((await this.withDeadline(this.step(manager))) !== 'handled') return;
        this.failures.delete(manager.name);
      } catch (error) {
        if (isRetryable(error)) continue;
        const failures = (this.failures.get(manager.name) ?? 0) + 1;
        this.failures.set(manager.name, failures);
        this.options.logger.error('process manager step failed; it will be retried', {
          processManager: manager.name,
          failures,
          error,
        });
        // Retry on the next poll (or doorbell); repeated failures keep the event, never skip it.
        return;
      }
    }
  }

  /**
   * A step whose connection dies can, in rare driver states, never settle; give up on it after
   * `stepTimeoutMs` so the manager carries on. Its transaction died with its backend, and the
   * checkpoint lock (SKIP LOCKED) keeps a slow but live step from running twice.
   */
  private withDeadline(step: Promise<Step>): Promise<Step> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`process manager step did not settle in ${this.stepTimeoutMs} ms`)),
        this.stepTimeoutMs,
      );
    });
    return Promise.race([step, deadline]).finally(() => clearTimeout(timer));
  }

  private get stepTimeoutMs(): number {
    return this.options.stepTimeoutMs ?? 30_000;
  }

  private step(manager: ProcessManager): Promise<Step> {
    return this.options.store.transaction(async (session) => {
      const [checkpoint] = await session.tx
        .select({ transactionId: checkpoints.transactionId, position: checkpoints.position })
        .from(checkpoints)
        .where(eq(checkpoints.consumer, manager.name))
        .for('update', { skipLocked: true });
      if (!checkpoint) return 'busy-elsewhere';
      const { next, head } = await nextTrigger(session, manager, checkpoint);
      if (!next) {
        // Nothing for us up to the fence: skip ahead, so idle polls do not rescan the same events.
        if (head) await moveCheckpoint(session, manager, head);
        return 'idle';
      }
      await manager.handle(session, this.trigger(manager, next));
      await moveCheckpoint(session, manager, next.logPosition);
      return 'handled';
    });
  }

  private trigger(manager: ProcessManager, event: RecordedEvent): Trigger {
    return {
      event,
      logger: this.options.logger,
      command: (commandName) => ({
        commandName,
        commandId: newId('cmd'),
        now: this.options.clock(),
        correlationId: event.metadata.correlationId,
        causationId: event.id,
        actor: `process:${manager.name}`,
      }),
    };
  }
}

/**
 * The next event this manager handles after its checkpoint, and the newest commit-safe position,
 * read in one statement (one snapshot), so skipping to `head` can never pass an unhandled event.
 */
const nextTrigger = async (
  session: PostgresSession,
  manager: ProcessManager,
  checkpoint: { transactionId: string; position: bigint },
): Promise<{ next: RecordedEvent | undefined; head: LogPosition | undefined }> => {
  const after = sql`(${checkpoint.transactionId}::xid8, ${String(checkpoint.position)}::bigint)`;
  const fence = sql`pg_snapshot_xmin(pg_current_snapshot())`;
  const rows = await session.tx.execute<EventRow & { head_transaction_id: string | null; head_position: string | null }>(sql`
    with head as (
      select transaction_id, position from es.events
       where transaction_id < ${fence} and (transaction_id, position) > ${after}
       order by transaction_id desc, position desc limit 1
    ), next as (
      select ${eventColumns} from es.events e
       where e.type in ${sql`(${sql.join(manager.handles.map((type) => sql`${type}`), sql`, `)})`}
         and (e.transaction_id, e.position) > ${after} and e.transaction_id < ${fence}
       order by e.transaction_id, e.position limit 1
    )
    select next.*, head.transaction_id::text as head_transaction_id, head.position::text as head_position
      from head left join next on true`);
  const [row] = rows;
  if (!row) return { next: undefined, head: undefined };
  return {
    next: row.id ? toRecordedEvent(row) : undefined,
    head:
      row.head_transaction_id && row.head_position
        ? { transactionId: BigInt(row.head_transaction_id), position: BigInt(row.head_position) }
        : undefined,
  };
};

const moveCheckpoint = (session: PostgresSession, manager: ProcessManager, to: LogPosition) =>
  session.tx
    .update(checkpoints)
    .set({ transactionId: String(to.transactionId), position: to.position, updatedAt: sql`now()` })
    .where(eq(checkpoints.consumer, manager.name));
