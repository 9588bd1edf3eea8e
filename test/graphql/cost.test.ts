import { parse, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createCostCheck } from '../../src/graphql/limits.js';
import { schema } from '../../src/graphql/schema.js';

const cost = (check: ReturnType<typeof createCostCheck>, document: DocumentNode, variableValues: Record<string, unknown> = {}) =>
  check.cost({ schema, document, variableValues });

/** The cost a fresh check computes: what any cached answer must equal. */
const fresh = (document: DocumentNode, variableValues: Record<string, unknown> = {}) => cost(createCostCheck(), document, variableValues);

describe('the cost check', () => {
  it('weighs a document once when its variables cannot change its cost (a mutation’s input, an id)', () => {
    const check = createCostCheck();
    const document = parse('mutation ($input: ProcessOrderInput!) { processOrder(input: $input) { __typename ... on ProcessOrderSuccess { order { id status } } } }');
    const first = cost(check, document, { input: { id: 'ord_1' } });
    expect(first).toBe(fresh(document, { input: { id: 'ord_1' } }));
    expect(first).toBeGreaterThan(0);
    for (let n = 2; n <= 5; n++) expect(cost(check, document, { input: { id: `ord_${n}` } })).toBe(first);
    expect(check.computed).toBe(1);
  });

  it('weighs each request again when a variable gives a page size', () => {
    const check = createCostCheck();
    const document = parse('query ($n: Int) { events(first: $n) { edges { node { id data } } } }');
    const small = cost(check, document, { n: 10 });
    const large = cost(check, document, { n: 500 });
    expect(small).toBe(fresh(document, { n: 10 }));
    expect(large).toBe(fresh(document, { n: 500 }));
    expect(large).toBeGreaterThan(small!);
    expect(cost(check, document, { n: 10 })).toBe(small);
    expect(check.computed).toBe(3);
  });

  it('weighs each request again when a variable includes or skips a field, in a fragment too', () => {
    const check = createCostCheck();
    const document = parse(`
      query ($big: Boolean!) { ...Page }
      fragment Page on Query { events(first: 500) @include(if: $big) { edges { node { data } } } }`);
    const without = cost(check, document, { big: false });
    const withPage = cost(check, document, { big: true });
    expect(without).toBe(fresh(document, { big: false }));
    expect(withPage).toBe(fresh(document, { big: true }));
    expect(withPage).toBeGreaterThan(without!);
  });

  it('keeps nothing from variables that do not fit, and weighs the next request', () => {
    const check = createCostCheck();
    const document = parse('query ($id: ID!) { account(id: $id) { id balance } }');
    expect(cost(check, document, { id: { not: 'an id' } })).toBeUndefined();
    expect(cost(check, document, { id: 'acc_1' })).toBe(fresh(document, { id: 'acc_1' }));
    expect(cost(check, document, { id: 'acc_2' })).toBe(fresh(document, { id: 'acc_1' }));
    expect(check.computed).toBe(2);
  });

  it('weighs each named operation of one document on its own', () => {
    const check = createCostCheck();
    const document = parse('query Small { events(first: 1) { edges { node { id } } } } query Large { events(first: 200) { edges { node { id data } } } }');
    const small = check.cost({ schema, document, variableValues: {}, operationName: 'Small' });
    const large = check.cost({ schema, document, variableValues: {}, operationName: 'Large' });
    expect(small).toBe(createCostCheck().cost({ schema, document, variableValues: {}, operationName: 'Small' }));
    expect(large).toBe(createCostCheck().cost({ schema, document, variableValues: {}, operationName: 'Large' }));
    expect(large).toBeGreaterThan(small!);
    expect(check.cost({ schema, document, variableValues: {}, operationName: 'Small' })).toBe(small);
    expect(check.computed).toBe(2);
  });
});
