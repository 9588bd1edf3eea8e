import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { useApp } from '../../helpers/app.js';
import { execute } from '../../helpers/graphql.js';

const app = await useApp();

const at = `query ($id: ID!, $v: Int!) { transactionVersion(id: $id, version: $v) { __typename id transactionId status doneBy version amount } }`;
const now = `query ($id: ID!) { transaction(id: $id) { __typename id status doneBy version amount } }`;

describe('transactionVersion(id, version)', () => {
  it('returns the transaction as it was after each version, rebuilt from its events, with an identity of its own', async () => {
    const id = newId('tx');
    await execute(app.yoga, `mutation ($id: ID!) { createTransaction(input: { id: $id, currency: "EUR", amount: "3.10" }) { __typename } }`, { id });
    await execute(app.yoga, `mutation ($id: ID!) { completeTransaction(input: { id: $id, doneBy: "zoe" }) { __typename } }`, { id });

    const v1 = await execute(app.yoga, at, { id, v: 1 });
    expect(v1.data!.transactionVersion).toEqual({
      __typename: 'TransactionVersion',
      id: `${id}@1`,
      transactionId: id,
      status: 'PROCESSING',
      doneBy: null,
      version: 1,
      amount: '3.1',
    });
    const v2 = await execute(app.yoga, at, { id, v: 2 });
    expect(v2.data!.transactionVersion).toMatchObject({ id: `${id}@2`, status: 'COMPLETED', doneBy: 'zoe', version: 2 });
    // The live transaction keeps its own identity: a normalised cache (Apollo: __typename + id) never mixes them.
    const live = await execute(app.yoga, now, { id });
    expect(live.data!.transaction).toEqual({ __typename: 'Transaction', id, status: 'COMPLETED', doneBy: 'zoe', version: 2, amount: '3.1' });
  });

  it('is null before the first and after the last version, and for an id of another kind', async () => {
    const id = newId('tx');
    await execute(app.yoga, `mutation ($id: ID!) { createTransaction(input: { id: $id, currency: "EUR", amount: "1" }) { __typename } }`, { id });
    for (const v of [0, 2, -1, 2 ** 31 - 1]) {
      const result = await execute(app.yoga, at, { id, v });
      expect(result.errors).toBeUndefined();
      expect(result.data!.transactionVersion).toBeNull();
    }
    expect((await execute(app.yoga, at, { id: newId('acc'), v: 1 })).data!.transactionVersion).toBeNull();
  });
});
