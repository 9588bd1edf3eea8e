import { isObjectType, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema.js';

/**
 * Derived from the schema (issue 14): a field added without an access rule fails here before it
 * can ship open. Every query and subscription needs `cairn:read`, every mutation `cairn:write`
 * (admins have both); aggregates with owners add a rule on their type.
 */
const rootFields = (type: GraphQLObjectType | null | undefined) => Object.values(type?.getFields() ?? {});
const rule = (field: GraphQLField<unknown, unknown>) => (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;

describe('access rules', () => {
  it.each([
    ['Query', schema.getQueryType(), { read: true }],
    ['Subscription', schema.getSubscriptionType(), { read: true }],
    ['Mutation', schema.getMutationType(), { write: true }],
  ] as const)('gives every %s field its scope', (_, type, scope) => {
    const missing = rootFields(type)
      .filter((field) => JSON.stringify(rule(field)) !== JSON.stringify(scope))
      .map((field) => field.name);
    expect(missing).toEqual([]);
  });

  it('guards the types of owned aggregates, Account and MoneyTransfer (and their past versions), with an owner rule', () => {
    const guarded = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter((type) => typeof (type.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes === 'function')
      .map((type) => type.name)
      .sort();
    expect(guarded).toEqual(['Account', 'AccountVersion', 'MoneyTransfer', 'MoneyTransferVersion']);
  });
});
