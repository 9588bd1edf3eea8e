import { eq, sql } from 'drizzle-orm';
import { describeError, type Logger } from '../logger.js';
import type { CommandContext } from './command.js';
import { fence } from './fence.js';
import { newId } from './ids.js';
import { lockSpaces, StreamOrderConflict, tryAdvisoryLock, type PostgresEventStore, type PostgresSession } from './postgres-store.js';
import type { Relay } from './relay.js';
import { checkpoints, parkedTriggers } from './tables.js';
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
 * errors; anything they throw rolls the step back, and it is tried again with backoff a few
 * times, then parked (see ProcessManagerRunner).
 */
export type ProcessManager = {
  /** Its checkpoint's key in `es.checkpoints`; never rename a deployed one. */
  readonly name: string;
  readonly handles: readonly string[];
  /**
   * The process a trigger belongs to (a transfer, an order): once a trigger is parked, the later
   * triggers of the same process wait behind it, and those of other processes go on.
   */
  processOf(event: RecordedEvent): string;
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
  /** Attempts at one trigger before it is parked (default 5). */
  readonly maxAttempts?: number;
  /** The wait before the second attempt; it doubles for each further one (default 200 ms). */
  readonly backoffMs?: number;
  /** Triggers one step takes at most, in one transaction (default `defaultBatchSize`); 1 for one at a time. */
  readonly batchSize?: number;
};

/**
 * Triggers one step handles at most. A step's transaction holds the commit-safe fence for every
 * reader while it runs, so a batch stays short: 64 triggers took 20–60 ms here.
 */
export const defaultBatchSize = 64;

/** A trigger that failed and waits for its next attempt. */
export type FailingTrigger = {
  readonly eventId: string;
  readonly eventType: string;
  readonly attempts: number;
  readonly error: string;
  readonly since: Date;
};

/** What this runner knows of one manager (the database knows its lag and parked triggers). */
export type RunnerState = {
  readonly name: string;
  readonly handled: number;
  readonly failures: number;
  readonly parked: number;
  readonly failing: FailingTrigger | null;
};

/** What one step did: handled triggers (how many), found nothing to do, or found the manager running elsewhere. */
type StepOutcome = { readonly handled: number } | 'idle' | 'busy-elsewhere';

type ManagerState = {
  handled: number;
  failures: number;
  parked: number;
  failing: (FailingTrigger & { readonly position: LogPosition }) | null;
  retryTimer: NodeJS.Timeout | null;
  /** Steps left to take one trigger at a time, after a batch failed: they find the trigger that fails. */
  singleSteps: number;
};

/**
 * A batch of triggers that failed as a whole: nothing of it was written. Its triggers are taken
 * again one per step, so that the one that fails is retried and parked on its own, as always.
 */
class BatchFailed extends Error {
  constructor(
    readonly size: number,
    override readonly cause: unknown,
  ) {
    super(`a batch of ${size} triggers failed`);
  }
}

/**
 * Failures that say nothing about the trigger: the connection or the server went away, a
 * deadlock or serialization failure, a server short of resources, a step that never settled.
 * They are retried on the next poll for as long as they last and never park a trigger.
 */
export const isTransient = (error: unknown): boolean => {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof StepTimeout) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (/^(CONNECTION_|ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)/.test(code)) return true;
    if (/^(08|40|53|57|58)[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
};

class StepTimeout extends Error {}

/** How a failure reads in logs and in `es.parked_triggers`: codes and messages, never parameters. */
export const failureText = (error: unknown): string => {
  const { code, message } = describeError(error);
  return code ? `${code}: ${message}` : message;
};

/**
 * Runs process managers, a batch of triggers per transaction (see `step`). Each step first takes
 * the manager's advisory lock without waiting (`pg_try_advisory_xact_lock`), so across any number
 * of server instances exactly one runs a given manager at a time. That lock gives the step no
 * transaction id: the step gets one only when its first command appends, after taking its
 * stream's lock, so what it appends lands after the stream's earlier versions in the log (see
 * `executeCommand`); a later command of the batch that meets a stream written since by a newer
 * transaction has the whole step run again with its streams locked first (`StreamOrderConflict`).
 *
 * A step that throws is tried again after a backoff that doubles, `maxAttempts` times in all;
 * then its trigger is parked in `es.parked_triggers` with the error, and the manager goes on.
 * Later triggers of the same process are parked behind it (they never run out of order);
 * an operator retries them with `npm run process-managers -- retry`.
 */
export class ProcessManagerRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly states = new Map<string, ManagerState>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly options: ProcessManagerRunnerOptions) {
    for (const manager of options.managers) {
      this.states.set(manager.name, { handled: 0, failures: 0, parked: 0, failing: null, retryTimer: null, singleSteps: 0 });
    }
  }

  get managers(): readonly ProcessManager[] {
    return this.options.managers;
  }

  /** Steps run again because a stream they appended to had a newer last writer (see PostgresEventStore). */
  get streamOrderRetries(): number {
    return this.options.store.streamOrderRetries;
  }

  /** Counters and the failing trigger of each manager, as this runner saw them. */
  state(): RunnerState[] {
    return this.options.managers.map((manager) => {
      const { handled, failures, parked, failing } = this.stateOf(manager);
      return {
        name: manager.name,
        handled,
        failures,
        parked,
        failing: failing && { eventId: failing.eventId, eventType: failing.eventType, attempts: failing.attempts, error: failing.error, since: failing.since },
      };
    });
  }

  async start(): Promise<void> {
    const { store, relay, managers } = this.options;
    for (const manager of managers) await ensureCheckpoint(store, manager.name);
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
    for (const state of this.states.values()) if (state.retryTimer) clearTimeout(state.retryTimer);
    this.unsubscribe?.();
    await Promise.all(this.running.values());
  }

  /** Resolves when every process manager has handled everything visible now, or is waiting to retry a failure (for tests). */
  async drain(): Promise<void> {
    for (const manager of this.options.managers) {
      this.kick(manager);
      while (this.running.has(manager.name)) await this.running.get(manager.name);
    }
  }

  private stateOf(manager: ProcessManager): ManagerState {
    return this.states.get(manager.name)!;
  }

  private poll(): void {
    if (this.stopped) return;
    for (const manager of this.options.managers) this.kick(manager);
    this.timer = setTimeout(() => this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  /** Runs the manager until it has nothing left; a kick while it runs asks for one more pass. A failing manager waits for its retry. */
  private kick(manager: ProcessManager, retry = false): void {
    if (this.stopped) return;
    const state = this.stateOf(manager);
    if (state.retryTimer && !retry) return;
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
    const state = this.stateOf(manager);
    while (!this.stopped) {
      const single = state.singleSteps > 0;
      try {
        const step = await this.withDeadline(this.step(manager, single ? 1 : this.batchSize));
        if (typeof step === 'string') return;
        state.handled += step.handled;
        state.failing = null;
        if (single) state.singleSteps -= 1;
      } catch (error) {
        if (error instanceof BatchFailed) {
          state.singleSteps = error.size;
          continue;
        }
        await this.failed(manager, error);
        return;
      }
    }
  }

  /**
   * Counts a failed attempt at the manager's next trigger: retry it after a backoff, or park it.
   * A transient failure is retried on the next poll (or doorbell) and counts no attempt.
   */
  private async failed(manager: ProcessManager, error: unknown): Promise<void> {
    const state = this.stateOf(manager);
    state.failures += 1;
    const trigger = isTransient(error) ? undefined : await this.nextTrigger(manager).catch(() => undefined);
    if (!trigger) {
      this.options.logger.warn('process manager step failed; it will be retried', {
        processManager: manager.name,
        transient: true,
        error,
      });
      return;
    }
    const sameTrigger = state.failing?.eventId === trigger.id;
    const attempts = sameTrigger ? state.failing!.attempts + 1 : 1;
    const failure = failureText(error);
    const maxAttempts = this.options.maxAttempts ?? 5;
    if (attempts < maxAttempts) {
      state.failing = {
        eventId: trigger.id,
        eventType: trigger.type,
        position: trigger.logPosition,
        attempts,
        error: failure,
        since: sameTrigger ? state.failing!.since : new Date(),
      };
      const delay = (this.options.backoffMs ?? 200) * 2 ** (attempts - 1);
      this.options.logger.warn('process manager step failed; it will be retried', {
        processManager: manager.name,
        eventId: trigger.id,
        type: trigger.type,
        attempts,
        retryInMs: delay,
        error,
      });
      state.retryTimer = setTimeout(() => {
        state.retryTimer = null;
        this.kick(manager, true);
      }, delay);
      state.retryTimer.unref();
      return;
    }
    try {
      const parked = await this.options.store.transaction(async (session) =>
        (await lockManager(session, manager)) ? park(session, manager, trigger, { attempts, error: failure, failed: true }) : false,
      );
      if (parked) {
        state.parked += 1;
        state.failing = null;
        this.options.logger.error('process manager parked a trigger after its retries; later triggers of its process wait behind it', {
          processManager: manager.name,
          eventId: trigger.id,
          type: trigger.type,
          process: manager.processOf(trigger),
          attempts,
          error,
        });
      }
    } catch (parkError) {
      this.options.logger.error('process manager could not park a failing trigger; it will be retried', {
        processManager: manager.name,
        eventId: trigger.id,
        error: parkError,
      });
    }
    // Go on with the next trigger (or, if parking failed, try this one again on the next poll).
    this.kick(manager, true);
  }

  /** The trigger a step of this manager would handle now, read outside any step. */
  private nextTrigger(manager: ProcessManager): Promise<RecordedEvent | undefined> {
    return this.options.store.transaction(async (session) => (await readNext(session, manager))?.next);
  }

  /**
   * A step whose connection dies can, in rare driver states, never settle; give up on it after
   * `stepTimeoutMs` so the manager carries on. Its transaction died with its backend, and the
   * manager's lock keeps a slow but live step from running twice.
   */
  private withDeadline(step: Promise<StepOutcome>): Promise<StepOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepTimeout(`process manager step did not settle in ${this.stepTimeoutMs} ms`)),
        this.stepTimeoutMs,
      );
    });
    return Promise.race([step, deadline]).finally(() => clearTimeout(timer));
  }

  private get stepTimeoutMs(): number {
    return this.options.stepTimeoutMs ?? 30_000;
  }

  private get batchSize(): number {
    return Math.max(1, this.options.batchSize ?? defaultBatchSize);
  }

  /**
   * One transaction: the manager's next triggers (at most `limit`), handled, and the checkpoint
   * moved past them. Triggers of one process are handled one after another, in log order; those
   * of different processes at once, their statements pipelined on the step's connection, and
   * commands on one stream queue (see `PostgresSession.exclusive`). A trigger whose process has
   * a parked trigger is parked behind it instead.
   */
  private step(manager: ProcessManager, limit: number): Promise<StepOutcome> {
    return this.options.store.transaction(async (session) => {
      if (!(await lockManager(session, manager))) return 'busy-elsewhere';
      const read = await readNext(session, manager, limit);
      if (!read) return 'idle';
      const { triggers, head } = read;
      if (triggers.length === 0) {
        // Nothing for us up to the fence: skip ahead, so idle polls do not rescan the same events.
        if (head) await moveCheckpoint(session, manager, head);
        return 'idle';
      }
      const waiting = read.parked ? await parkedProcesses(session, manager, triggers.map((event) => manager.processOf(event))) : new Map<string, string>();
      const processes = new Map<string, RecordedEvent[]>();
      for (const event of triggers) {
        const process = manager.processOf(event);
        const behind = waiting.get(process);
        if (behind !== undefined) {
          await insertParked(session, manager, event, { attempts: 0, error: `waits behind parked trigger ${behind}`, failed: false });
          continue;
        }
        const queue = processes.get(process);
        if (queue) queue.push(event);
        else processes.set(process, [event]);
      }
      try {
        await settleAll([...processes.values()].map(async (queue) => {
          for (const event of queue) await manager.handle(session, this.trigger(manager, event));
        }));
      } catch (error) {
        // A refused append is run again whole by the store (its streams locked first); any other
        // failure of a batch sends its triggers through one at a time.
        if (triggers.length === 1 || error instanceof StreamOrderConflict) throw error;
        throw new BatchFailed(triggers.length, error);
      }
      // A batch shorter than asked for reached the fence: nothing for us lies between it and `head`.
      const last = triggers.at(-1)!.logPosition;
      await moveCheckpoint(session, manager, triggers.length < limit && head ? head : last);
      return { handled: triggers.length };
    });
  }

  private trigger(manager: ProcessManager, event: RecordedEvent): Trigger {
    return triggerFor(manager, event, this.options.clock, this.options.logger);
  }
}

/**
 * Waits for every promise (a batch's handlers share one transaction: none may still be sending
 * when it ends), then rejects with the first failure, or a StreamOrderConflict when there is one
 * (the store runs the step again with its streams locked first).
 */
const settleAll = async (work: readonly Promise<unknown>[]): Promise<void> => {
  const failures: unknown[] = [];
  await Promise.all(work.map((promise) => promise.catch((error: unknown) => void failures.push(error))));
  if (failures.length === 0) return;
  throw failures.find((error) => error instanceof StreamOrderConflict) ?? failures[0];
};

export const triggerFor = (manager: ProcessManager, event: RecordedEvent, clock: () => Date, logger: Logger): Trigger => ({
  event,
  logger,
  command: (commandName) => ({
    commandName,
    commandId: newId('cmd'),
    now: clock(),
    correlationId: event.metadata.correlationId,
    causationId: event.id,
    actor: `process:${manager.name}`,
  }),
});

export const ensureCheckpoint = (store: PostgresEventStore, consumer: string) =>
  store.transaction(async (session) => {
    await session.tx.insert(checkpoints).values({ consumer, transactionId: '0', position: 0n }).onConflictDoNothing();
  });

/** Takes the manager's lock for this transaction; false when a step elsewhere holds it. */
export const lockManager = async (session: PostgresSession, manager: ProcessManager): Promise<boolean> => {
  const [row] = await session.tx.execute<{ locked: boolean }>(tryAdvisoryLock(lockSpaces.processManager, manager.name));
  return row?.locked === true;
};

/**
 * The next events this manager handles after its checkpoint (at most `limit`), the newest
 * commit-safe position and whether the manager has parked triggers, read in one statement (one
 * snapshot), so skipping to `head` can never pass an unhandled event. Undefined when the manager
 * has no checkpoint.
 */
const readNext = async (
  session: PostgresSession,
  manager: ProcessManager,
  limit = 1,
): Promise<{ triggers: RecordedEvent[]; next: RecordedEvent | undefined; head: LogPosition | undefined; parked: boolean } | undefined> => {
  const rows = await session.tx.execute<
    EventRow & { head_transaction_id: string | null; head_position: string | null; parked: boolean }
  >(sql`
    with checkpoint as (
      select transaction_id, position from es.checkpoints where consumer = ${manager.name}
    ), head as (
      select e.transaction_id, e.position from es.events e, checkpoint c
       where e.transaction_id < ${fence} and (e.transaction_id, e.position) > (c.transaction_id, c.position)
       order by e.transaction_id desc, e.position desc limit 1
    ), next as (
      select ${eventColumns} from es.events e, checkpoint c
       where e.type in ${sql`(${sql.join(manager.handles.map((type) => sql`${type}`), sql`, `)})`}
         and (e.transaction_id, e.position) > (c.transaction_id, c.position) and e.transaction_id < ${fence}
       order by e.transaction_id, e.position limit ${limit}
    )
    select next.*, head.transaction_id::text as head_transaction_id, head.position::text as head_position,
           exists (select 1 from es.parked_triggers p where p.consumer = ${manager.name}) as parked
      from checkpoint left join head on true left join next on true
     order by next.transaction_id::xid8, next.position::bigint`);
  const [row] = rows;
  if (!row) return undefined;
  const triggers = rows.filter((candidate) => candidate.id !== null).map(toRecordedEvent);
  return {
    triggers,
    next: triggers[0],
    head:
      row.head_transaction_id && row.head_position
        ? { transactionId: BigInt(row.head_transaction_id), position: BigInt(row.head_position) }
        : undefined,
    parked: row.parked,
  };
};

/** Of these processes, those with a parked trigger, each with the event id of its earliest one. */
const parkedProcesses = async (session: PostgresSession, manager: ProcessManager, processes: readonly string[]): Promise<Map<string, string>> => {
  const rows = await session.tx.execute<{ process: string; event_id: string }>(sql`
    select distinct on (process) process, event_id from es.parked_triggers
     where consumer = ${manager.name} and process in (select jsonb_array_elements_text(${JSON.stringify([...new Set(processes)])}::jsonb))
     order by process, transaction_id, position`);
  return new Map(rows.map((row) => [row.process, row.event_id]));
};

/**
 * Parks `event` and moves the checkpoint past it, provided it is still the manager's next trigger
 * (another instance may have handled it meanwhile). True when it was parked.
 */
const park = async (
  session: PostgresSession,
  manager: ProcessManager,
  event: RecordedEvent,
  failure: { attempts: number; error: string; failed: boolean },
): Promise<boolean> => {
  const read = await readNext(session, manager);
  if (read?.next?.id !== event.id) return false;
  await insertParked(session, manager, event, failure);
  await moveCheckpoint(session, manager, event.logPosition);
  return true;
};

const insertParked = (
  session: PostgresSession,
  manager: ProcessManager,
  event: RecordedEvent,
  failure: { attempts: number; error: string; failed: boolean },
) =>
  session.tx.insert(parkedTriggers).values({
    consumer: manager.name,
    transactionId: String(event.logPosition.transactionId),
    position: event.logPosition.position,
    eventId: event.id,
    eventType: event.type,
    process: manager.processOf(event),
    ...failure,
  });

const moveCheckpoint = (session: PostgresSession, manager: ProcessManager, to: LogPosition) =>
  session.tx
    .update(checkpoints)
    .set({ transactionId: String(to.transactionId), position: to.position, updatedAt: sql`now()` })
    .where(eq(checkpoints.consumer, manager.name));
