import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { forbidden } from '../auth/errors.js';
import { mayRead, mayWrite, isAdmin } from '../auth/principal.js';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { ConcurrencyConflictError, ValidationError } from '../eventstore/errors.js';
import type { Context } from './context.js';
import { parseDecimal, parseDecimalLiteral, serializeDecimal } from './scalars.js';

const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export const builder = new SchemaBuilder<{
  Context: Context;
  // The contract's fields are non-null (`code: ErrorCode!`, `id: ID!`…); nullable ones say so.
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Decimal: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
  // cairn:read, cairn:write and cairn:admin (README, "Security"); admins have every scope.
  AuthScopes: { read: boolean; write: boolean; admin: boolean };
}>({
  // Scope auth first, so that no other plugin's wrapper runs before the check.
  plugins: [ScopeAuthPlugin, ErrorsPlugin],
  scopeAuth: {
    authScopes: (context) => ({ read: mayRead(context.principal), write: mayWrite(context.principal), admin: isAdmin(context.principal) }),
    // A subscription is checked when it starts, and its events by their own rules.
    authorizeOnSubscribe: true,
    // An object type's rule runs once per object, not once per field.
    runScopesOnType: true,
    unauthorizedError: (_parent, context) => forbidden(context.principal),
  },
  defaultFieldNullability: false,
  errors: {
    // Every command can fail validation or meet a version conflict: members of every result union.
    defaultTypes: [ValidationError, ConcurrencyConflictError],
    // Mutation `fooBar` answers with union `FooBarResult` = `FooBarSuccess` | its errors.
    defaultResultOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Success` },
    defaultUnionOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Result` },
  },
});

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An instant in time, as an ISO 8601 string in UTC, e.g. `2026-11-24T21:22:57.000Z`.',
});
builder.addScalarType('JSON', JSONResolver, { description: 'Any JSON value.' });
builder.scalarType('Decimal', {
  description:
    'An exact decimal number as a string, e.g. `"1.11"`: at most 18 integer and 18 fraction digits; never a float.',
  parseValue: parseDecimal,
  parseLiteral: parseDecimalLiteral,
  serialize: serializeDecimal,
});

builder.queryType({ description: 'Reads come from projections; the event log is read behind the commit-safe fence.' });
builder.mutationType({ description: 'Every mutation is a command: one transaction of events, projections and outbox.' });
builder.subscriptionType({ description: 'Committed events and projection changes, in commit order.' });

/** The builder's type parameters, for helpers that take Pothos field builders and refs. */
export type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
