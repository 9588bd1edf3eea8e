import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, subtract } from '../../src/lib/decimal.js';
import { accountDecider, type AccountEvent } from '../../src/modules/accounts/account.js';
import { evolveAccountView, type AccountView } from '../../src/modules/accounts/projection.js';
import type { RecordedEvent } from '../../src/eventstore/types.js';
import { parseDecimal } from '../../src/graphql/scalars.js';
import { useConnection } from '../helpers/app.js';

const { db } = useConnection({ max: 2 });

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** Any amount the Decimal scalar accepts, half of them at its limits: 18 integer and 18 fraction digits. */
const amount = fc
  .tuple(
    fc.oneof(digits(18, 18), digits(1, 18)),
    fc.oneof(digits(18, 18), digits(0, 18)),
  )
  .map(([integer, fraction]) => parseDecimal(fraction === '' ? integer : `${integer}.${fraction}`));

/** Pairs whose results PostgreSQL's numeric disagrees with, computed there in one statement. */
const disagreements = async (rows: readonly { a: string; b: string; sum: string; difference: string }[]) =>
  db.execute<{ a: string; b: string }>(sql`
    select a, b from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(a text, b text, sum text, difference text)
     where a::numeric + b::numeric <> sum::numeric or a::numeric - b::numeric <> difference::numeric`);

/** The shortest exact form: no exponent, no trailing fraction zeros, no leading zeros. */
const canonical = /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/;

describe('exact money arithmetic', () => {
  it('adds and subtracts every accepted amount exactly, as PostgreSQL numeric does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(amount, amount), { minLength: 100, maxLength: 200 }), async (pairs) => {
        const rows = pairs.map(([a, b]) => ({ a, b, sum: add(a, b), difference: subtract(a, b) }));
        expect(await disagreements(rows)).toEqual([]);
        for (const row of rows) {
          expect(row.sum).toMatch(canonical);
          expect(row.difference).toMatch(canonical);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('keeps a balance exact through a history of credits and debits, in the decider and the projection alike', async () => {
    await fc.assert(
      fc.asyncProperty(amount, fc.array(fc.tuple(fc.boolean(), amount), { minLength: 1, maxLength: 40 }), async (opening, moves) => {
        const events: AccountEvent[] = [
          { type: 'AccountOpened', data: { owner: 'p', currency: 'EUR', initialBalance: opening } },
          ...moves.map(([credit, value]): AccountEvent =>
            credit ? { type: 'AccountCredited', data: { amount: value } } : { type: 'AccountDebited', data: { amount: value } },
          ),
        ];
        const state = events.reduce(accountDecider.evolve, accountDecider.initialState);
        const view = events.reduce<AccountView | undefined>(
          (row, event, index) => evolveAccountView(row, { ...event, aggregateId: 'acc_x', version: index + 1, occurredAt: new Date(0) } as RecordedEvent<AccountEvent>),
          undefined,
        );
        const [expected] = await db.execute<{ balance: string }>(sql`
          select (${opening}::numeric + coalesce(sum(case when m.credit then m.value::numeric else -m.value::numeric end), 0))::text as balance
            from jsonb_to_recordset(${JSON.stringify(moves.map(([credit, value]) => ({ credit, value })))}::jsonb) as m(credit boolean, value text)`);
        const [same] = await db.execute<{ equal: boolean }>(
          sql`select ${state.status === 'NONE' ? null : state.balance}::numeric = ${expected!.balance}::numeric
                 and ${view!.balance}::numeric = ${expected!.balance}::numeric as equal`,
        );
        expect(same!.equal).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps the digits the issue saw rounded away', () => {
    expect(add('123456789012345.123456789', '1')).toBe('123456789012346.123456789');
    expect(add('999999999999999999.999999999999999999', '0.000000000000000001')).toBe('1000000000000000000');
    expect(subtract('0.000000000000000001', '999999999999999999.999999999999999999')).toBe('-999999999999999999.999999999999999998');
  });
});
