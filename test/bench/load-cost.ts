/**
 * Two figures about reading state back from events.
 *
 * `load-cost`: command latency on streams of 1, 100, 1,000 and 10,000 events for the three ways a
 * cairn repository loads an aggregate: full replay, snapshot + tail, and the projection row. A
 * bench-only counter aggregate, three aggregates that differ only in `load` (the snapshot one
 * also has `snapshotEvery`); all three run the same inline projection, so every command writes
 * the same rows. Streams are seeded with bulk SQL, then commands run one at a time, the three
 * strategies interleaved so that noise on the machine hits them alike.
 *
 * `rebuild`: `rebuildViewProjection` on `transaction_views` over BENCH_REBUILD_EVENTS events
 * (TransactionCreated + TransactionCompleted, seeded with bulk SQL as the domain writes them),
 * once with the table intact and once with it emptied first.
 *
 * Standalone: `npx tsx test/bench/load-cost.ts` (embedded PostgreSQL in a temp dir, or DATABASE_URL's
 * server). Knobs: BENCH_LOAD_COMMANDS=100 (commands per cell), BENCH_REBUILD_EVENTS=200000,
 * BENCH_REBUILD_PAGE=5000.
 */
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { integer, pgSchema, text } from 'drizzle-orm/pg-core';
import { connect, type Connection, type Executor } from '../../src/db/client.js';
import type { CommandContext } from '../../src/eventstore/command.js';
import type { Decider } from '../../src/eventstore/decider.js';
import { newId } from '../../src/eventstore/ids.js';
import { snapshotAndTail, type Loader } from '../../src/eventstore/loaders.js';
import { PostgresEventStore, type PostgresSession } from '../../src/eventstore/postgres-store.js';
import { rebuildViewProjection, type RebuildResult } from '../../src/eventstore/rebuild.js';
import { defineAggregate } from '../../src/eventstore/aggregate.js';
import type { Event } from '../../src/eventstore/types.js';
import { viewProjection, type ViewEvolve } from '../../src/eventstore/view-projection.js';
import { createLogger } from '../../src/logger.js';
import { projectTransactions } from '../../src/modules/transactions/projection.js';
import { aggregateType as transactionType } from '../../src/modules/transactions/transaction.js';
import type { Bar, BenchContext, FigureRunner } from './figure.js';
import { markdownTable } from './report.js';
import { percentile, positive, provideServer } from './target.js';

// The bench counter: one event per command, its state a running total.

type Added = Event<'Added', { by: number }>;
type Counter = { readonly total: number };

const counter: Decider<{ readonly type: 'Add' }, Counter, Added> = {
  initialState: { total: 0 },
  decide: () => [{ type: 'Added', data: { by: 1 } }],
  evolve: (state, event) => ({ total: state.total + event.data.by }),
};

const counterType = 'BenchCounter';
const benchSchema = pgSchema('bench');
/** A bench-only read model, created with plain SQL at setup (never a migration). */
const counterViews = benchSchema.table('counter_views', {
  id: text('id').primaryKey(),
  version: integer('version').notNull(),
  total: integer('total').notNull(),
});

const evolveCounterView: ViewEvolve<typeof counterViews.$inferSelect, Added> = (view, event) => ({
  id: event.aggregateId,
  version: event.version,
  total: (view?.total ?? 0) + event.data.by,
});
const projectCounter = viewProjection(counterViews, evolveCounterView);

/** es-go's loader, as the transactions module does it: the row, locked, instead of the events. */
const loadFromRow: Loader<Counter, PostgresSession> = async (session, id) => {
  const [row] = await session.tx.select().from(counterViews).where(eq(counterViews.id, id)).for('update');
  return row ? { state: { total: row.total }, version: row.version } : { state: counter.initialState, version: 0 };
};

const strategies = ['replay', 'snapshot', 'row'] as const;
type Strategy = (typeof strategies)[number];
const strategyLabel: Record<Strategy, string> = {
  replay: 'full replay',
  snapshot: 'snapshot + tail',
  row: 'projection row',
};

const lengths = [1, 100, 1_000, 10_000] as const;
const snapshotEvery = 100;
/** Where the seeded snapshot sits: this many events before the stream's end, the mean tail with a snapshot every 100. */
const snapshotTail = 50;
/** On long streams several commands share one stream (it grows by at most this many, ≤ 1 %); on short ones each has its own. */
const commandsPerStream = (length: number) => (length >= 1_000 ? 10 : 1);

const aggregateFor = (strategy: Strategy) =>
  defineAggregate({
    type: counterType,
    decider: counter,
    projections: [projectCounter],
    respond: async (_session, outcome) => outcome.version,
    ...(strategy === 'snapshot' && { load: snapshotAndTail(counter), snapshotEvery }),
    ...(strategy === 'row' && { load: loadFromRow }),
  });

const streamId = (prefix: string, length: number, index: number) => `lc_${prefix}_${length}_${index}`;

type Cell = { readonly strategy: Strategy; readonly length: number; readonly streams: number };

/** Streams of `length` events each, as commands would have left them: events, outbox rows, stream versions, rows, snapshots. */
const seedCell = async (db: Executor, cell: Cell, prefix: string = cell.strategy) => {
  const { length, streams } = cell;
  const ids = sql`(select format('lc_%s_%s_%s', ${prefix}::text, ${length}::integer, i) as id from generate_series(0, ${streams - 1}::integer) i)`;
  await db.execute(sql`
    insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
    select 'evt_' || substr(md5(s.id || ':' || v), 1, 27), s.id, ${counterType}, v, 'Added', '{"by": 1}'::jsonb,
           jsonb_build_object('correlationId', c.id, 'causationId', c.id, 'commandId', c.id, 'command', 'add'),
           now()
      from ${ids} s cross join generate_series(1, ${length}::integer) v
           cross join lateral (select 'cmd_' || substr(md5(s.id || '#' || v), 1, 27) as id) c
     order by s.id, v`);
  await db.execute(sql`
    insert into es.streams (aggregate_id, aggregate_type, version) select s.id, ${counterType}, ${length}::integer from ${ids} s`);
  await db.execute(sql`
    insert into bench.counter_views (id, version, total) select s.id, ${length}::integer, ${length}::integer from ${ids} s`);
  if (cell.strategy === 'snapshot' && length >= snapshotEvery) {
    const at = length - snapshotTail;
    await db.execute(sql`
      insert into es.snapshots (aggregate_id, version, data) select s.id, ${at}::integer, jsonb_build_object('total', ${at}::integer) from ${ids} s`);
  }
};

const describeDatabase = async (connection: Connection) => {
  const [row] = await connection.db.execute<{ version: string; fsync: string; synchronous_commit: string }>(sql`
    select current_setting('server_version') as version, current_setting('fsync') as fsync,
           current_setting('synchronous_commit') as synchronous_commit`);
  return `PostgreSQL ${row?.version}, fsync=${row?.fsync}, synchronous_commit=${row?.synchronous_commit}`;
};

/** After a bulk load: set hint bits and statistics, and start from a fresh checkpoint. */
const settle = async (connection: Connection, tables: string) => {
  await connection.sql.unsafe(`vacuum (analyze) ${tables}`);
  await connection.sql`checkpoint`.catch(() => undefined); // needs a superuser; noise otherwise
};

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : Number.NaN);
const loadedEvents = (strategy: Strategy, length: number) => {
  const grown = length + commandsPerStream(length) - 1;
  if (strategy === 'row') return '0 (one row)';
  const range = (from: number, to: number) => (from === to ? `${from}` : `${from}–${to}`);
  if (strategy === 'snapshot' && length >= snapshotEvery) return `snapshot + ${range(snapshotTail, snapshotTail + grown - length)}`;
  return range(length, grown);
};

export const loadCost: FigureRunner = async ({ target, progress }: BenchContext) => {
  const commands = positive('BENCH_LOAD_COMMANDS', 100);
  const connection = connect(target.url, { max: 4, applicationName: 'cairn-bench-load' });
  try {
    await connection.db.execute(sql`create schema if not exists bench`);
    await connection.db.execute(sql`create table bench.counter_views (id text primary key, version integer not null, total integer not null)`);
    const seedStarted = performance.now();
    const cells: Cell[] = lengths.flatMap((length) =>
      strategies.map((strategy) => ({ strategy, length, streams: Math.ceil(commands / commandsPerStream(length)) })),
    );
    const warmup = 30;
    await connection.db.transaction(async (tx) => {
      for (const cell of cells) await seedCell(tx, cell);
      for (const strategy of strategies) await seedCell(tx, { strategy, length: 10, streams: warmup }, `warm_${strategy}`);
      await tx.execute(sql`
        insert into es.outbox (transaction_id, position, aggregate_type, type)
        select transaction_id, position, aggregate_type, type from es.events where aggregate_type = ${counterType}`);
    });
    await settle(connection, 'es.events, es.streams, es.snapshots, es.outbox, bench.counter_views');
    const [size] = await connection.db.execute<{ events: number; json: number }>(sql`
      select count(*)::integer as events, avg(length(data::text) + length(metadata::text))::integer as json
        from es.events where aggregate_type = ${counterType}`);
    const seedMs = performance.now() - seedStarted;
    progress(`load-cost: seeded ${size?.events} events in ${(seedMs / 1000).toFixed(1)} s`);

    const store = new PostgresEventStore(connection.db);
    const aggregates = new Map(strategies.map((strategy) => [strategy, aggregateFor(strategy)] as const));
    const run = async (strategy: Strategy, id: string, expectedVersion: number) => {
      const context: CommandContext = { commandName: 'add', commandId: newId('cmd'), now: new Date() };
      const started = performance.now();
      await aggregates.get(strategy)!.handle(store, id, { type: 'Add' }, context, { expectedVersion });
      return performance.now() - started;
    };
    for (let i = 0; i < warmup; i++) {
      for (const strategy of strategies) await run(strategy, streamId(`warm_${strategy}`, 10, i), 10);
    }

    const latencies = new Map<string, number[]>();
    const measureStarted = performance.now();
    for (const length of lengths) {
      const perStream = commandsPerStream(length);
      for (let j = 0; j < commands; j++) {
        // Rotate who goes first, so no strategy always follows another's commit.
        const order = strategies.map((_, k) => strategies[(j + k) % strategies.length]!);
        for (const strategy of order) {
          const ms = await run(strategy, streamId(strategy, length, Math.floor(j / perStream)), length + (j % perStream));
          const key = `${strategy}@${length}`;
          const samples = latencies.get(key) ?? [];
          samples.push(ms);
          latencies.set(key, samples);
        }
      }
      progress(`load-cost: ${length} events done`);
    }
    const measureMs = performance.now() - measureStarted;

    const rows: (string | number)[][] = [];
    const bars: Bar[] = [];
    const values: Record<string, number> = {};
    for (const length of lengths) {
      for (const strategy of strategies) {
        const samples = Float64Array.from(latencies.get(`${strategy}@${length}`) ?? []).sort();
        const p50 = percentile(samples, 50);
        const p99 = percentile(samples, 99);
        const perSecond = (1000 * samples.length) / samples.reduce((sum, ms) => sum + ms, 0);
        rows.push([strategyLabel[strategy], length, loadedEvents(strategy, length), samples.length, fixed(p50, 2), fixed(p99, 2), fixed(perSecond, 0)]);
        bars.push({ group: `${length.toLocaleString('en')} events`, label: strategyLabel[strategy], value: fixed(p50, 2), unit: 'ms' });
        values[`${strategy}@${length}.p50Ms`] = fixed(p50, 3);
        values[`${strategy}@${length}.p99Ms`] = fixed(p99, 3);
        values[`${strategy}@${length}.commandsPerSecond`] = fixed(perSecond, 1);
      }
    }
    return [
      {
        id: 'load-cost',
        title: 'Command latency by stream length and loading strategy',
        setup: [
          await describeDatabase(connection),
          `event: \`Added {"by":1}\` with its metadata (correlationId, causationId, commandId, command): ${size?.json} bytes of JSON`,
          `${commands} commands per cell, one at a time from one Node process, the three strategies interleaved; ${warmup} unmeasured warm-up commands per strategy`,
          `every command: load, decide, append one event (event, stream version, outbox row), the same inline projection row update in all three strategies, commit`,
          `snapshot + tail: a snapshot every ${snapshotEvery} events; each seeded stream's latest snapshot sits ${snapshotTail} events before its end (the mean tail); no command in the run crosses a multiple of ${snapshotEvery}`,
          `streams seeded with bulk SQL (${size?.events.toLocaleString('en')} events in ${(seedMs / 1000).toFixed(1)} s, then VACUUM ANALYZE); measuring took ${(measureMs / 1000).toFixed(1)} s`,
          `machine: ${availableParallelism()} cores, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')} at the end`,
        ],
        columns: ['strategy', 'stream events', 'events folded per load', 'commands', 'p50 ms', 'p99 ms', 'commands/s'],
        rows,
        notes: [
          'Every command appends, so a stream grows by the commands run on it: on 1,000 and 10,000 events, ten commands share a stream (it grows by ≤ 1 %); on 1 and 100 events each command has a stream of its own.',
          'Full replay reads and folds the whole stream inside the command transaction, so its cost grows with the stream; snapshot + tail and the projection row do not. `commands/s` is sequential (one command at a time): 1,000 / mean latency.',
        ],
        bars,
        values,
      },
    ];
  } finally {
    await connection.close();
  }
};

/** Transactions as the domain writes them: TransactionCreated, then TransactionCompleted, with their rows and log entries. */
const seedTransactions = async (connection: Connection, count: number) => {
  await connection.db.transaction(async (tx) => {
    await tx.execute(sql`
      create temporary table seed on commit drop as
      select i, 'tx_' || substr(md5('tx' || i), 1, 27) as id,
             (i % 9999 + 1)::text || '.' || lpad((i % 100)::text, 2, '0') as amount,
             'clerk-' || (i % 50) as done_by,
             timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' as created_at,
             timestamptz '2026-01-01 00:00:00+00' + i * interval '1 millisecond' + interval '90 seconds' as completed_at
        from generate_series(1, ${count}::integer) i`);
    // A completion lands about a thousand creations after its transaction's: the log interleaves them.
    await tx.execute(sql`
      insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
      select 'evt_' || substr(md5(e.id || ':' || e.version), 1, 27), e.id, ${transactionType}, e.version, e.type, e.data,
             jsonb_build_object('correlationId', e.command_id, 'causationId', e.command_id, 'commandId', e.command_id, 'command', e.command),
             e.occurred_at
        from (
          select s.id, 1 as version, 'TransactionCreated' as type, s.i as sort,
                 jsonb_build_object('currency', 'EUR', 'amount', s.amount) as data, 'createTransaction' as command,
                 'cmd_' || substr(md5('c' || s.i), 1, 27) as command_id, s.created_at as occurred_at
            from seed s
          union all
          select s.id, 2, 'TransactionCompleted', s.i + 1000, jsonb_build_object('doneBy', s.done_by), 'completeTransaction',
                 'cmd_' || substr(md5('d' || s.i), 1, 27), s.completed_at
            from seed s
        ) e
       order by e.sort, e.version`);
    await tx.execute(sql`
      insert into es.outbox (transaction_id, position, aggregate_type, type)
      select transaction_id, position, aggregate_type, type from es.events where aggregate_type = ${transactionType}`);
    await tx.execute(sql`insert into es.streams (aggregate_id, aggregate_type, version) select id, ${transactionType}, 2 from seed`);
    await tx.execute(sql`
      insert into projection.transaction_views (id, version, status, currency, amount, done_by, created_at, updated_at)
      select id, 2, 'COMPLETED', 'EUR', amount::numeric, done_by, created_at, completed_at from seed`);
  });
};

const rebuildRow = (label: string, result: RebuildResult) => [
  label,
  result.events,
  result.streams,
  result.rows,
  result.pages,
  fixed(result.ms / 1000, 2),
  fixed(result.events / (result.ms / 1000), 0),
  fixed(result.swapMs / 1000, 2),
  result.deleted + result.inserted,
];

export const rebuild: FigureRunner = async ({ target, progress }: BenchContext) => {
  const events = positive('BENCH_REBUILD_EVENTS', 200_000);
  const pageSize = positive('BENCH_REBUILD_PAGE', 5_000);
  const transactions = Math.ceil(events / 2);
  const connection = connect(target.url, { max: 2, applicationName: 'cairn-bench-rebuild' });
  try {
    const seedStarted = performance.now();
    await seedTransactions(connection, transactions);
    await connection.db.execute(sql`create schema if not exists bench`);
    await connection.db.execute(sql`create table bench.transaction_views_seeded as select * from projection.transaction_views`);
    await settle(connection, 'es.events, es.streams, es.outbox, projection.transaction_views');
    const seedMs = performance.now() - seedStarted;
    progress(`rebuild: seeded ${transactions * 2} events in ${(seedMs / 1000).toFixed(1)} s`);
    const [size] = await connection.db.execute<{ json: number }>(sql`
      select avg(length(data::text) + length(metadata::text))::integer as json from es.events where aggregate_type = ${transactionType}`);

    const views = { projection: projectTransactions, aggregateType: transactionType };
    let reported = 0;
    const onPage = ({ events: done }: { events: number }) => {
      if (done - reported < pageSize * 10) return;
      reported = done;
      progress(`rebuild: ${done} events folded`);
    };
    const intact = await rebuildViewProjection(target.url, views, { pageSize, onPage });
    const identical = await connection.db.execute<{ differ: number }>(sql`
      select count(*)::integer as differ from (
        (select * from projection.transaction_views except select * from bench.transaction_views_seeded)
        union all
        (select * from bench.transaction_views_seeded except select * from projection.transaction_views)) d`);
    await connection.db.execute(sql`delete from projection.transaction_views`);
    await settle(connection, 'projection.transaction_views');
    reported = 0;
    const emptied = await rebuildViewProjection(target.url, views, { pageSize, onPage });
    const [after] = await connection.db.execute<{ differ: number }>(sql`
      select count(*)::integer as differ from (
        (select * from projection.transaction_views except select * from bench.transaction_views_seeded)
        union all
        (select * from bench.transaction_views_seeded except select * from projection.transaction_views)) d`);
    const differ = (identical[0]?.differ ?? 0) + (after?.differ ?? 0);
    if (differ !== 0) throw new Error(`the rebuilt transaction_views differ from the seeded rows in ${differ} rows`);

    return [
      {
        id: 'rebuild',
        title: 'Projection rebuild: transaction_views from the event store',
        setup: [
          await describeDatabase(connection),
          `${(transactions * 2).toLocaleString('en')} events: ${transactions.toLocaleString('en')} transactions, each TransactionCreated then TransactionCompleted (payloads and metadata as the commands write them, ${size?.json} bytes of JSON per event on average), seeded with bulk SQL in ${(seedMs / 1000).toFixed(1)} s`,
          `\`rebuildViewProjection\`: streams read in (aggregate id, version) order, ${pageSize.toLocaleString('en')} events per page and per transaction, folded by the module's own \`evolveView\` into a temporary table on the rebuild's connection; then one swap transaction (table locked IN EXCLUSIVE MODE) replaces the rows that differ`,
          'no writers during the run; after both runs the table equals the seeded rows exactly (checked with EXCEPT both ways)',
          `machine: ${availableParallelism()} cores, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')} at the end`,
        ],
        columns: ['table before', 'events', 'streams', 'rows', 'pages', 'total s', 'events/s', 'swap s (lock held)', 'rows written by the swap'],
        rows: [rebuildRow('intact', intact), rebuildRow('emptied', emptied)],
        notes: [
          'The swap writes only rows that differ from the rebuilt ones: on an intact table it writes none and holds the lock only to compare; on an emptied one it inserts every row.',
          'Commands of the aggregate wait while the swap holds its lock, and its transaction holds the delivery fence for as long; the paged part blocks no one.',
        ],
        bars: [
          { group: 'rebuild', label: 'intact table', value: fixed(intact.events / (intact.ms / 1000), 0), unit: 'events/s' },
          { group: 'rebuild', label: 'emptied table', value: fixed(emptied.events / (emptied.ms / 1000), 0), unit: 'events/s' },
        ],
        values: {
          'intact.eventsPerSecond': fixed(intact.events / (intact.ms / 1000), 0),
          'intact.seconds': fixed(intact.ms / 1000, 3),
          'intact.swapSeconds': fixed(intact.swapMs / 1000, 3),
          'emptied.eventsPerSecond': fixed(emptied.events / (emptied.ms / 1000), 0),
          'emptied.seconds': fixed(emptied.ms / 1000, 3),
          'emptied.swapSeconds': fixed(emptied.swapMs / 1000, 3),
          rows: emptied.rows,
          events: emptied.events,
        },
      },
    ];
  } finally {
    await connection.close();
  }
};

const main = async () => {
  const logger = createLogger((process.env.LOG_LEVEL as 'debug' | undefined) ?? 'warn', { component: 'bench' });
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const server = await provideServer(logger);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.stop().finally(() => process.exit(130)));
  }
  try {
    for (const [name, runner] of [['load-cost', loadCost], ['rebuild', rebuild]] as const) {
      const started = performance.now();
      const target = await server.database();
      try {
        for (const figure of await runner({ target, logger, progress })) {
          console.log(`\n## ${figure.title}\n\n${figure.setup.map((line) => `- ${line}`).join('\n')}\n\n${markdownTable(figure)}\n`);
          for (const note of figure.notes ?? []) console.log(`${note}\n`);
        }
      } finally {
        await target.stop();
      }
      progress(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await server.stop();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await main();
