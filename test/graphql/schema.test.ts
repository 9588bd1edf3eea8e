import { readFileSync } from 'node:fs';
import {
  type GraphQLField,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  isUnionType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schemaFile } from '../../src/cli/print-schema.js';
import { columnFields } from '../../src/graphql/payload-free.js';
import { schema } from '../../src/graphql/schema.js';

const ownTypes = (): GraphQLNamedType[] =>
  Object.values(schema.getTypeMap()).filter((type) => !type.name.startsWith('__') && !isSpecifiedScalarType(type));

const described = (description: string | null | undefined): boolean => (description ?? '').trim().length > 0;

const namedType = (name: string): GraphQLNamedType => {
  const type = schema.getType(name);
  if (!type) throw new Error(`the schema has no type ${name}`);
  return type;
};

/** `{ field: 'Type!' }` of an object, interface or input type, as SDL prints it. */
const fieldsOf = (name: string): Record<string, string> => {
  const type = namedType(name);
  if (!isObjectType(type) && !isInterfaceType(type) && !isInputObjectType(type)) {
    throw new Error(`${name} has no fields`);
  }
  return Object.fromEntries(Object.values(type.getFields()).map((field) => [field.name, String(field.type)]));
};

/** `name(arg: Type = default, …): Type` of one field, arguments in schema order. */
const signatureOf = (typeName: string, fieldName: string): string => {
  const type = namedType(typeName);
  if (!isObjectType(type) && !isInterfaceType(type)) throw new Error(`${typeName} has no output fields`);
  const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[fieldName];
  if (!field) throw new Error(`${typeName} has no field ${fieldName}`);
  const args = [...field.args]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((arg) => `${arg.name}: ${String(arg.type)}${arg.defaultValue === undefined ? '' : ` = ${String(arg.defaultValue)}`}`);
  return `${fieldName}${args.length > 0 ? `(${args.join(', ')})` : ''}: ${String(field.type)}`;
};

const interfacesOf = (name: string): string[] => {
  const type = namedType(name);
  if (!isObjectType(type) && !isInterfaceType(type)) throw new Error(`${name} cannot implement interfaces`);
  return type.getInterfaces().map((i) => i.name);
};

const membersOf = (name: string): string[] => {
  const type = namedType(name);
  if (!isUnionType(type)) throw new Error(`${name} is not a union`);
  return type.getTypes().map((member) => member.name);
};

const enumValuesOf = (name: string): string[] => {
  const type = namedType(name);
  if (!isEnumType(type)) throw new Error(`${name} is not an enum`);
  return type.getValues().map((value) => value.name);
};

describe('the committed schema', () => {
  it('equals the served schema', () => {
    const committed = readFileSync(schemaFile, 'utf8');
    expect(committed, 'schema.graphql is stale: run `npm run schema:print` and commit it').toBe(printedSchema());
  });
});

describe('schema documentation', () => {
  it('describes every type, field, argument and enum value', () => {
    const undocumented: string[] = [];
    for (const type of ownTypes()) {
      if (!described(type.description)) undocumented.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!described(field.description)) undocumented.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!described(arg.description)) undocumented.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          if (!described(value.description)) undocumented.push(`${type.name}.${value.name}`);
        }
      }
    }
    expect(undocumented, `these have no description: ${undocumented.join(', ')}`).toEqual([]);
  });
});

describe('the GraphQL contract', () => {
  it('has the shared scalars, interfaces and error codes', () => {
    for (const scalar of ['DateTime', 'Decimal', 'JSON']) expect(namedType(scalar).constructor.name).toBe('GraphQLScalarType');
    expect(fieldsOf('Node')).toEqual({ id: 'ID!' });
    expect(fieldsOf('Error')).toEqual({ code: 'ErrorCode!', message: 'String!' });
    expect(enumValuesOf('ErrorCode').sort()).toEqual(
      ['ALREADY_EXISTS', 'CONCURRENCY_CONFLICT', 'FORBIDDEN', 'ILLEGAL_STATE', 'INSUFFICIENT_FUNDS', 'NOT_FOUND', 'UNAUTHENTICATED', 'VALIDATION_FAILED'],
    );
  });

  it('has the Event interface with its fields', () => {
    expect(fieldsOf('Event')).toMatchObject({
      id: 'ID!',
      position: 'String!',
      aggregateId: 'ID!',
      aggregateType: 'String!',
      version: 'Int!',
      type: 'String!',
      data: 'JSON!',
      metadata: 'JSON!',
      occurredAt: 'DateTime!',
    });
  });

  it("answers the column fields of every event type with the Event interface's own fields (payload-free reads rely on it)", () => {
    const event = namedType('Event');
    if (!isInterfaceType(event)) throw new Error('Event is not an interface');
    const implementations = schema.getImplementations(event).objects;
    expect(implementations.length).toBeGreaterThan(10);
    for (const type of implementations) {
      for (const name of columnFields) {
        if (name === '__typename') continue;
        // Pothos copies an interface field into each implementation with its description and resolver.
        expect(type.getFields()[name]?.description, `${type.name}.${name}`).toBe(event.getFields()[name]?.description);
      }
    }
  });

  it('types the transaction events as Events with typed payload fields', () => {
    expect(interfacesOf('TransactionCreated')).toEqual(['Event']);
    expect(interfacesOf('TransactionCompleted')).toEqual(['Event']);
    expect(fieldsOf('TransactionCreated')).toMatchObject({ currency: 'String!', amount: 'Decimal!', data: 'JSON!' });
    expect(fieldsOf('TransactionCompleted')).toMatchObject({ doneBy: 'String!', data: 'JSON!' });
  });

  it.each([
    ['createTransaction', 'CreateTransaction', ['AlreadyExistsError', 'ConcurrencyConflictError', 'ValidationError']],
    [
      'completeTransaction',
      'CompleteTransaction',
      ['ConcurrencyConflictError', 'IllegalStateError', 'NotFoundError', 'ValidationError'],
    ],
  ])('has Mutation.%s(input) returning a union of its success and its errors', (field, name, errors) => {
    expect(signatureOf('Mutation', field)).toBe(`${field}(input: ${name}Input!): ${name}Result!`);
    expect(membersOf(`${name}Result`).sort()).toEqual([`${name}Success`, ...errors].sort());
    expect(fieldsOf(`${name}Success`)).toEqual({ transaction: 'Transaction!' });
    for (const error of errors) expect(interfacesOf(error), `${error} implements Error`).toContain('Error');
  });

  it('has the transaction inputs', () => {
    expect(fieldsOf('CreateTransactionInput')).toEqual({
      id: 'ID',
      currency: 'String!',
      amount: 'Decimal!',
      idempotencyKey: 'String',
    });
    expect(fieldsOf('CompleteTransactionInput')).toEqual({
      id: 'ID!',
      doneBy: 'String!',
      expectedVersion: 'Int',
      idempotencyKey: 'String',
    });
  });

  it('has the Transaction type as a Node', () => {
    expect(interfacesOf('Transaction')).toContain('Node');
    expect(fieldsOf('Transaction')).toMatchObject({
      id: 'ID!',
      status: 'TransactionStatus!',
      currency: 'String!',
      amount: 'Decimal!',
      doneBy: 'String',
      version: 'Int!',
      createdAt: 'DateTime!',
      updatedAt: 'DateTime!',
      events: 'EventConnection!',
    });
    expect(enumValuesOf('TransactionStatus').sort()).toEqual(['COMPLETED', 'PROCESSING']);
  });

  it('has Relay connections', () => {
    expect(fieldsOf('TransactionConnection')).toMatchObject({ edges: '[TransactionEdge!]!', pageInfo: 'PageInfo!' });
    expect(fieldsOf('TransactionEdge')).toMatchObject({ cursor: 'String!', node: 'Transaction!' });
    expect(fieldsOf('EventConnection')).toMatchObject({ edges: '[EventEdge!]!', pageInfo: 'PageInfo!' });
    expect(fieldsOf('EventEdge')).toMatchObject({ cursor: 'String!', node: 'Event!' });
    expect(fieldsOf('PageInfo')).toMatchObject({
      hasNextPage: 'Boolean!',
      hasPreviousPage: 'Boolean!',
      startCursor: 'String',
      endCursor: 'String',
    });
  });

  it.each([
    ['Query', 'node', 'node(id: ID!): Node'],
    ['Query', 'transaction', 'transaction(id: ID!): Transaction'],
    ['Query', 'transactionVersion', 'transactionVersion(id: ID!, version: Int!): TransactionVersion'],
    ['Query', 'transactions', 'transactions(after: String, first: Int): TransactionConnection!'],
    ['Query', 'stream', 'stream(afterVersion: Int = 0, aggregateId: ID!, first: Int): [Event!]!'],
    [
      'Query',
      'events',
      'events(after: String, aggregateType: String, first: Int, types: [String!]): EventConnection!',
    ],
    [
      'Subscription',
      'events',
      'events(after: String, aggregateId: ID, aggregateType: String, fromStart: Boolean = false, types: [String!]): Event!',
    ],
    ['Subscription', 'transactionChanged', 'transactionChanged(afterVersion: Int, id: ID!): Transaction!'],
  ])('has %s.%s', (type, field, signature) => {
    expect(signatureOf(type, field)).toBe(signature);
  });
});
