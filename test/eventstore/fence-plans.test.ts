import { sql, type SQL } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { behindFenceCount } from '../../src/eventstore/lag.js';
import { relayRead } from '../../src/eventstore/relay.js';
import { useApp, useIsolatedDatabase } from '../helpers/app.js';

// The relay reads after every commit (at most every CAIRN_RELAY_READ_GAP_MS). Its check whether
// the fence holds anything back asked for any outbox row at or past the fence; the planner
// estimated a third of the table for that and scanned all of it, on every read: 50 ms at 100,000
// rows, and the log only grows. With a log of realistic size, no statement that runs per read
// or per metrics scrape may scan the outbox.
const app = await useApp({ databaseUrl: await useIsolatedDatabase(), processManagers: [], relayPollMs: 60_000 });
const { db } = app.services;

await db.execute(sql`
  insert into es.events (id, aggregate_id, aggregate_type, version, type, data, metadata, occurred_at)
  select 'evt_plan_' || g, 'plan_' || g, 'Plan', 1, 'Planned', '{}'::jsonb, '{}'::jsonb, now() from generate_series(1, 30000) g`);
await db.execute(sql`
  insert into es.outbox (position, aggregate_type, type) select position, aggregate_type, type from es.events where aggregate_type = 'Plan'`);
await db.execute(sql`analyze es.outbox`);
await db.execute(sql`analyze es.events`);

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };
const scans = (node: PlanNode): string[] => [
  ...(node['Node Type'] === 'Seq Scan' ? [node['Relation Name'] ?? '?'] : []),
  ...(node.Plans ?? []).flatMap(scans),
];
const seqScansOf = async (statement: SQL): Promise<string[]> => {
  const [row] = await db.execute<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(sql`explain (format json) ${statement}`);
  return scans(row!['QUERY PLAN'][0].Plan);
};

describe('the fence checks on a log of 30,000 events', () => {
  it("reads the relay's next batch and whether the fence holds without scanning the outbox", async () => {
    // Aliases unlike the columns: ORDER BY would otherwise sort the text outputs.
    const [newest] = await db.execute<{ tid: string; pos: string }>(
      sql`select transaction_id::text as tid, position::text as pos from es.outbox order by transaction_id desc, position desc limit 1`,
    );
    const after = { transactionId: BigInt(newest!.tid), position: BigInt(newest!.pos) - 100n };
    expect(await seqScansOf(relayRead(after, 500))).toEqual([]);
    // It still answers: the batch after the cursor, nothing held back.
    const rows = await db.execute<{ position: string | null; fence_held: boolean }>(relayRead(after, 500));
    expect(rows.filter((row) => row.position !== null)).toHaveLength(100);
    expect(rows[0]!.fence_held).toBe(false);
  });

  it('counts what the fence holds back without scanning the outbox', async () => {
    expect(await seqScansOf(behindFenceCount)).toEqual([]);
  });
});
