/**
 * Long streams (issue 16, goal 5): command latency (p50) on a long stream ÷ on a fresh stream,
 * for every aggregate of cairn's modules, through the modules' own aggregates (their loaders,
 * projections and snapshot policies as they are), one command at a time on a plain kernel store.
 *
 *   Account         CreditAccount on an account with BENCH_LONG_EVENTS events ÷ on one just opened
 *   Organization    UpdateOrganization (a new name each time) likewise ÷ on one just registered
 *   Transaction     its stream ends at 2 events (Created, Completed): there is no long stream.
 *   Order           ends at 3 (Created, ProcessingRequested, Processed)
 *   MoneyTransfer   ends at 3 (Created, Debited, Completed or Failed)
 *                   For these the figure compares the last command a stream can take, on the
 *                   longest stream the domain allows, with the first command that loads a
 *                   stream, on 1 event (CompleteOrderProcessing on 2 ÷ ProcessOrder on 1;
 *                   MarkCompleted on 2 ÷ MarkDebited on 1; a transaction's only such command is
 *                   its last, CompleteTransaction on 1): a bounded stream meets the goal when its
 *                   longest command costs no more than its shortest. The command that starts a
 *                   stream is no baseline: it loads nothing at all (one round trip fewer).
 *
 * Long streams are built quickly but as commands would leave them: the first command and the
 * last BENCH_LONG_TAIL go through the aggregate itself (so a snapshot policy of up to that many
 * events writes its snapshots as in production); the events between are decided in memory by
 * the module's pure decider and appended in transactions of 1,000 through the kernel's
 * `appendToStream`, with the module's inline projections run on them in the same transaction.
 * Then fresh and long commands alternate, BENCH_LONG_COMMANDS of each, after 20 of each unmeasured.
 *
 * Alone: `npx tsx test/bench/long-streams.ts`. Knobs: BENCH_LONG_EVENTS=10000
 * BENCH_LONG_COMMANDS=100 BENCH_LONG_TAIL=100.
 */
import { connect, type Connection } from '../../src/db/client.js';
import type { Aggregate } from '../../src/eventstore/aggregate.js';
import { metadataOf, type CommandContext } from '../../src/eventstore/command.js';
import { newId } from '../../src/eventstore/ids.js';
import { PostgresEventStore, type PostgresSession } from '../../src/eventstore/postgres-store.js';
import type { Event } from '../../src/eventstore/types.js';
import { accountAggregate } from '../../src/modules/accounts/aggregate.js';
import { moneyTransferAggregate } from '../../src/modules/money-transfers/aggregate.js';
import { orderAggregate } from '../../src/modules/orders/aggregate.js';
import { organizationAggregate } from '../../src/modules/organizations/aggregate.js';
import { transactionAggregate } from '../../src/modules/transactions/aggregate.js';
import type { BenchContext, Figure, FigureRunner, Goal } from './figure.js';
import { percentile, positive } from './target.js';
import { runAlone } from './alone.js';

const goal = 1.2;
const chunk = 1_000;
const warmup = 20;

// Each module's aggregate, typed loosely here: the bench drives them through the same calls.
type AnyAggregate = Aggregate<any, any, Event, PostgresSession, unknown>;

/** One aggregate's scenario: how a stream starts, how it grows, and which commands are measured. */
type Scenario = {
  readonly type: string;
  readonly aggregate: AnyAggregate;
  readonly prefix: string;
  /** The command that starts a stream. */
  readonly start: (i: number) => unknown;
  /** Bounded streams: the commands after `start`, in order; the last one is the measured "long" command. */
  readonly steps?: readonly ((i: number) => unknown)[];
  /** Unbounded streams: the command that adds the i-th event. */
  readonly grow?: (i: number) => unknown;
  readonly fresh: string;
  readonly long: string;
};

const transferTerms = (i: number) => ({
  type: 'CreateMoneyTransfer',
  fromAccountId: `acc_bench_from_${i}`,
  toAccountId: `acc_bench_to_${i}`,
  amount: '1.00',
  from: { status: 'OPEN', currency: 'EUR' },
  to: { status: 'OPEN', currency: 'EUR' },
});

const scenarios: readonly Scenario[] = [
  {
    type: 'Account',
    aggregate: accountAggregate as unknown as AnyAggregate,
    prefix: 'acc',
    start: () => ({ type: 'OpenAccount', owner: 'bench', currency: 'EUR', initialBalance: '0' }),
    grow: () => ({ type: 'CreditAccount', amount: '1.00' }),
    fresh: 'CreditAccount on a 1-event stream (opened)',
    long: 'CreditAccount on a long stream',
  },
  {
    type: 'Organization',
    aggregate: organizationAggregate as unknown as AnyAggregate,
    prefix: 'org',
    start: () => ({ type: 'RegisterOrganization', createdBy: 'bench', name: 'Bench', registrationNumber: '1', vatNumber: 'BE1', vatIsIntraCom: false, country: 'BE' }),
    grow: (i) => ({ type: 'UpdateOrganization', changes: { name: `Bench ${i}` }, updatedBy: 'bench' }),
    fresh: 'UpdateOrganization on a 1-event stream (registered)',
    long: 'UpdateOrganization on a long stream',
  },
  {
    type: 'Transaction',
    aggregate: transactionAggregate as unknown as AnyAggregate,
    prefix: 'tx',
    start: () => ({ type: 'CreateTransaction', currency: 'EUR', amount: '12.34' }),
    steps: [() => ({ type: 'CompleteTransaction', doneBy: 'bench' })],
    fresh: 'CompleteTransaction on 1 event (the only command that loads a stream)',
    long: 'CompleteTransaction on 1 event (its longest stream: 2 events)',
  },
  {
    type: 'Order',
    aggregate: orderAggregate as unknown as AnyAggregate,
    prefix: 'ord',
    start: () => ({ type: 'CreateOrder', name: 'bench order' }),
    steps: [() => ({ type: 'ProcessOrder' }), () => ({ type: 'CompleteOrderProcessing' })],
    fresh: 'ProcessOrder on 1 event',
    long: 'CompleteOrderProcessing on 2 events (its longest stream: 3)',
  },
  {
    type: 'MoneyTransfer',
    aggregate: moneyTransferAggregate as unknown as AnyAggregate,
    prefix: 'mt',
    start: transferTerms,
    steps: [() => ({ type: 'MarkDebited' }), () => ({ type: 'MarkCompleted' })],
    fresh: 'MarkDebited on 1 event',
    long: 'MarkCompleted on 2 events (its longest stream: 3)',
  },
];

const context = (commandName: string): CommandContext => ({ commandName, commandId: newId('cmd'), now: new Date() });

/** Times one command through the aggregate, in ms. */
const timed = async (store: PostgresEventStore, scenario: Scenario, id: string, command: unknown, options?: { newStream: boolean }) => {
  const started = performance.now();
  await scenario.aggregate.handle(store, id, command, context('bench'), options);
  return performance.now() - started;
};

/**
 * A stream of `length` events: the first command and the last `tail` through the aggregate, the
 * ones between decided in memory and appended with their projections in transactions of 1,000.
 */
const buildLong = async (store: PostgresEventStore, scenario: Scenario, id: string, length: number, tail: number) => {
  const { aggregate, grow } = scenario;
  await aggregate.handle(store, id, scenario.start(0), context('bench'), { newStream: true });
  let state = aggregate.decider.decide(scenario.start(0), aggregate.decider.initialState).reduce(aggregate.decider.evolve, aggregate.decider.initialState);
  let version = 1;
  const bulkEnd = Math.max(1, length - tail);
  while (version < bulkEnd) {
    const events: Event[] = [];
    for (let i = version; i < Math.min(bulkEnd, version + chunk); i++) {
      const decided = aggregate.decider.decide(grow!(i), state) as readonly Event[];
      state = decided.reduce(aggregate.decider.evolve, state);
      events.push(...decided);
    }
    const appended = await store.transaction(async (session) => {
      await session.lockStream(id);
      const result = await session.appendToStream({ aggregateId: id, aggregateType: aggregate.type }, events, {
        expectedVersion: version,
        metadata: metadataOf(context('bench')),
        occurredAt: new Date(),
      });
      for (const project of aggregate.projections ?? []) await project(session, result.events);
      return result;
    });
    version = appended.version;
  }
  for (; version < length; version++) await aggregate.handle(store, id, grow!(version), context('bench'));
  return version;
};

type Result = {
  readonly scenario: Scenario;
  readonly longEvents: number;
  readonly fresh: Float64Array;
  readonly long: Float64Array;
  readonly buildMs: number;
};

const measureUnbounded = async (store: PostgresEventStore, scenario: Scenario, settings: Settings, progress: (line: string) => void): Promise<Result> => {
  const built = performance.now();
  const longId = newId(scenario.prefix);
  const longEvents = await buildLong(store, scenario, longId, settings.events, settings.tail);
  const buildMs = performance.now() - built;
  progress(`long-streams: ${scenario.type} stream of ${longEvents} events built in ${(buildMs / 1_000).toFixed(1)} s`);
  const total = warmup + settings.commands;
  const freshIds = Array.from({ length: total }, () => newId(scenario.prefix));
  for (const id of freshIds) await scenario.aggregate.handle(store, id, scenario.start(0), context('bench'), { newStream: true });
  const fresh: number[] = [];
  const long: number[] = [];
  for (let i = 0; i < total; i++) {
    const measured = i >= warmup;
    // Alternate who goes first, so neither always follows the other's commit.
    const runFresh = () => timed(store, scenario, freshIds[i]!, scenario.grow!(i + 1));
    const runLong = () => timed(store, scenario, longId, scenario.grow!(longEvents + i));
    const [a, b] = i % 2 === 0 ? [await runFresh(), await runLong()] : [await runLong(), await runFresh()].reverse();
    if (measured) {
      fresh.push(a!);
      long.push(b!);
    }
  }
  return { scenario, longEvents, fresh: Float64Array.from(fresh).sort(), long: Float64Array.from(long).sort(), buildMs };
};

const measureBounded = async (store: PostgresEventStore, scenario: Scenario, settings: Settings): Promise<Result> => {
  const steps = scenario.steps!;
  const total = warmup + settings.commands;
  const built = performance.now();
  // Streams one command short of their end, for the last command; fresh ones of 1 event, for the first that loads.
  const longIds = Array.from({ length: total }, () => newId(scenario.prefix));
  for (const [i, id] of longIds.entries()) {
    await scenario.aggregate.handle(store, id, scenario.start(i), context('bench'), { newStream: true });
    for (const step of steps.slice(0, -1)) await scenario.aggregate.handle(store, id, step(i), context('bench'));
  }
  const freshIds = Array.from({ length: total }, () => newId(scenario.prefix));
  for (const [i, id] of freshIds.entries()) await scenario.aggregate.handle(store, id, scenario.start(total + i), context('bench'), { newStream: true });
  const buildMs = performance.now() - built;
  const fresh: number[] = [];
  const long: number[] = [];
  for (let i = 0; i < total; i++) {
    const measured = i >= warmup;
    const runFresh = () => timed(store, scenario, freshIds[i]!, steps[0]!(total + i));
    const runLong = () => timed(store, scenario, longIds[i]!, steps.at(-1)!(i));
    const [a, b] = i % 2 === 0 ? [await runFresh(), await runLong()] : [await runLong(), await runFresh()].reverse();
    if (measured) {
      fresh.push(a!);
      long.push(b!);
    }
  }
  return { scenario, longEvents: steps.length, fresh: Float64Array.from(fresh).sort(), long: Float64Array.from(long).sort(), buildMs };
};

type Settings = { readonly events: number; readonly commands: number; readonly tail: number };

export const longStreams: FigureRunner = async ({ target, progress }: BenchContext) => {
  const settings: Settings = {
    events: positive('BENCH_LONG_EVENTS', 10_000),
    commands: positive('BENCH_LONG_COMMANDS', 100),
    tail: positive('BENCH_LONG_TAIL', 100),
  };
  const connection: Connection = connect(target.url, { max: 4, applicationName: 'cairn-bench-long-streams' });
  const results: Result[] = [];
  try {
    const store = new PostgresEventStore(connection.db);
    for (const scenario of scenarios) {
      results.push(scenario.grow ? await measureUnbounded(store, scenario, settings, progress) : await measureBounded(store, scenario, settings));
      const last = results.at(-1)!;
      progress(`long-streams: ${scenario.type}: fresh p50 ${percentile(last.fresh, 50).toFixed(2)} ms, long p50 ${percentile(last.long, 50).toFixed(2)} ms`);
    }
  } finally {
    await connection.close();
  }
  return [figure(results, settings)];
};

const figure = (results: readonly Result[], settings: Settings): Figure => {
  const ratio = (result: Result) => percentile(result.long, 50) / percentile(result.fresh, 50);
  const goals: Goal[] = results.map((result) => ({
    goal: `long streams, ${result.scenario.type}: p50 ${result.scenario.grow ? `on a ${result.longEvents.toLocaleString('en-US')}-event stream ÷ on a fresh one` : 'of its last command on its longest stream ÷ of its first command that loads a stream (1 event)'}`,
    target: `≤ ${goal.toFixed(1)}×`,
    result: `${ratio(result).toFixed(2)}×`,
    met: ratio(result) <= goal,
  }));
  return {
    id: 'long-streams',
    title: 'Long streams: command latency on a long stream ÷ on a fresh one, every aggregate',
    setup: [
      `every module's aggregate as registered (its loader, inline projections and snapshot policy), on a plain kernel store (PostgresEventStore, no relay or doorbell), one command at a time from the bench process; ${warmup} unmeasured commands of each kind, then ${settings.commands} of each (BENCH_LONG_COMMANDS), fresh and long alternating`,
      `Account and Organization: one long stream of ${settings.events.toLocaleString('en-US')} events each (BENCH_LONG_EVENTS; credits of 1.00, or updates each setting a new name), grown by the measured commands (≤ ${((100 * (warmup + settings.commands)) / settings.events).toFixed(1)} %); fresh: a stream opened or registered just before (1 event)`,
      `long streams built as commands would leave them: the first command and the last ${settings.tail} (BENCH_LONG_TAIL) through the aggregate, so a snapshot policy of up to ${settings.tail} events has written its snapshots as in production; the events between decided in memory by the module's pure decider and appended in transactions of ${chunk.toLocaleString('en-US')} by the kernel's appendToStream, the module's inline projections run on them in the same transaction`,
      'Transaction (at most 2 events), Order and MoneyTransfer (at most 3): no stream of these can be long, so the figure compares the last command a stream can take, on the longest stream the domain allows, with the first command that loads a stream (on 1 event; for a transaction that is the same command); a bounded stream meets the goal when its last command costs no more than 1.2× its first. The command that starts a stream is no baseline since it loads nothing (one round trip fewer than any other)',
    ],
    columns: ['aggregate', 'fresh: command', 'p50 ms', 'p99 ms', 'long: command', 'events before', 'p50 ms', 'p99 ms', 'long ÷ fresh (p50)', 'stream built s'],
    rows: results.map((result) => [
      result.scenario.type,
      result.scenario.fresh,
      Number(percentile(result.fresh, 50).toFixed(2)),
      Number(percentile(result.fresh, 99).toFixed(2)),
      result.scenario.long,
      result.scenario.grow ? result.longEvents.toLocaleString('en-US') : String(result.longEvents),
      Number(percentile(result.long, 50).toFixed(2)),
      Number(percentile(result.long, 99).toFixed(2)),
      `${ratio(result).toFixed(2)}×`,
      (result.buildMs / 1_000).toFixed(1),
    ]),
    goals,
    notes: [
      "A loader that replays the whole stream reads and folds every event inside the command's transaction, so its cost grows with the stream; a snapshot + tail, or the projection row, does not.",
    ],
    bars: results.flatMap((result) => [
      { group: `long streams, ${result.scenario.type}`, label: 'fresh', value: percentile(result.fresh, 50), unit: 'ms' },
      { group: `long streams, ${result.scenario.type}`, label: result.scenario.grow ? `${result.longEvents.toLocaleString('en-US')} events` : 'longest', value: percentile(result.long, 50), unit: 'ms' },
    ]),
    values: Object.fromEntries(results.map((result) => [`long-streams-ratio@${result.scenario.type}`, ratio(result)])),
  };
};

await runAlone(import.meta.url, 'long-streams', longStreams);
