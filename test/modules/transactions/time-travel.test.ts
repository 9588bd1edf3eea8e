import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { useApp } from '../../helpers/app.js';
import { execute } from '../../helpers/graphql.js';

const app = await useApp();

const at = `query ($id: ID!, $v: Int) { transaction(id: $id, atVersion: $v) { id status doneBy version amount } }`;

describe('transaction(atVersion)', () => {
  it('returns the transaction as it was after each version, rebuilt from its events', async () => {
    const id = newId('tx');
    await execute(app.yoga, `mutation ($id: ID!) { createTransaction(input: { id: $id, currency: "EUR", amount: "3.10" }) { __typename } }`, { id });
    await execute(app.yoga, `mutation ($id: ID!) { completeTransaction(input: { id: $id, doneBy: "zoe" }) { __typename } }`, { id });

    const v1 = await execute(app.yoga, at, { id, v: 1 });
    expect(v1.data!.transaction).toEqual({ id, status: 'PROCESSING', doneBy: null, version: 1, amount: '3.1' });
    const v2 = await execute(app.yoga, at, { id, v: 2 });
    const now = await execute(app.yoga, at, { id });
    expect(v2.data!.transaction).toEqual({ id, status: 'COMPLETED', doneBy: 'zoe', version: 2, amount: '3.1' });
    expect(now.data!.transaction).toEqual(v2.data!.transaction);
  });

  it('is null before the first and after the last version', async () => {
    const id = newId('tx');
    await execute(app.yoga, `mutation ($id: ID!) { createTransaction(input: { id: $id, currency: "EUR", amount: "1" }) { __typename } }`, { id });
    for (const v of [0, 2]) {
      const result = await execute(app.yoga, at, { id, v });
      expect(result.errors).toBeUndefined();
      expect(result.data!.transaction).toBeNull();
    }
  });
});
