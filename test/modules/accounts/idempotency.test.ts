import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useApp } from '../../helpers/app.js';
import { holdTransaction, untilWaiting } from '../../helpers/locks.js';
import { accountClient, uniqueKey } from './operations.js';

const app = await useApp({ processManagers: [] });
const client = accountClient(app.yoga);
const { db } = app.services;

const count = async (query: ReturnType<typeof sql>) => (await db.execute<{ n: number }>(query))[0]!.n;

describe('concurrent commands with one idempotency key', () => {
  it('opens one account for 50 identical openAccount without an id, and answers all 50 with it', async () => {
    const idempotencyKey = uniqueKey();
    const input = { owner: 'twin', currency: 'EUR', initialBalance: '10', idempotencyKey };
    const answers = await Promise.all(Array.from({ length: 50 }, () => client.open(input)));
    expect(new Set(answers.map((answer) => answer.__typename))).toEqual(new Set(['OpenAccountSuccess']));
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(await count(sql`select count(*)::int as n from es.events where metadata->>'idempotencyKey' = ${idempotencyKey}`)).toBe(1);
  });

  it('transfers once for 50 identical transferMoney without an id, and answers all 50 with it', async () => {
    const from = await client.opened('100');
    const to = await client.opened('0');
    const idempotencyKey = uniqueKey();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => client.transfer({ fromAccountId: from, toAccountId: to, amount: '1', idempotencyKey })),
    );
    expect(new Set(answers.map((answer) => answer.__typename))).toEqual(new Set(['TransferMoneySuccess']));
    expect(new Set(answers.map((answer) => answer.moneyTransfer.id)).size).toBe(1);
    expect(await count(sql`select count(*)::int as n from es.events where metadata->>'idempotencyKey' = ${idempotencyKey}`)).toBe(1);
  });

  it('answers 20 identical debits at one expectedVersion with the first one’s result', async () => {
    const id = await client.opened('10');
    const idempotencyKey = uniqueKey();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => client.debit({ accountId: id, amount: '1', expectedVersion: 1, idempotencyKey })),
    );
    expect(answers.map((answer) => answer.__typename)).toEqual(answers.map(() => 'DebitAccountSuccess'));
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(await client.account(id)).toMatchObject({ balance: '9', version: 2 });
  });

  it('replays for a duplicate that arrives while the first is past its lookup and has not committed', async () => {
    const id = await client.opened('10');
    const idempotencyKey = uniqueKey();
    const input = { accountId: id, amount: '1', expectedVersion: 1, idempotencyKey };
    // X holds the account's row: the first debit stops in its load, after looking its key up.
    const x = await holdTransaction();
    await x.run((tx) => tx`select id from projection.accounts where id = ${id} for update`);
    const first = client.debit(input);
    await untilWaiting(db, x.pid, 1, 'the first debit to wait for the row');
    // The duplicate must wait for the first to commit, then find its record: without that, it
    // would load version 2 and answer CONCURRENCY_CONFLICT for its expectedVersion 1.
    const second = client.debit(input);
    await untilWaiting(db, x.pid, 2, 'the duplicate to wait behind the first');
    await x.commit();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ __typename: 'DebitAccountSuccess', account: { balance: '9', version: 2 } });
    expect(b).toEqual(a);
  });
});
