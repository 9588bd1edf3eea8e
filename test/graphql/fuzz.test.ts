import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import { createClient } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { newId } from '../../src/eventstore/ids.js';
import { schema } from '../../src/graphql/schema.js';
import { maxBodyBytes } from '../../src/server.js';
import { useApp, useHttpServer } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Every mutation, query and subscription of the schema, driven with generated hostile arguments
 * (issue 13): unicode edge cases, huge and empty strings, extreme numbers, lists at and over their
 * bounds, malformed ids and cursors. Each answer is a success or a typed error, never an internal
 * one; an error writes nothing; the server is healthy afterwards.
 */
const app = await useApp({ processManagers: [] });
const { base, port } = await useHttpServer(app);

type Answer = { status: number; sent: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };

const post = async (query: string, variables: Record<string, unknown>): Promise<Answer> => {
  const body = JSON.stringify({ query, variables });
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body,
  });
  return { status: response.status, sent: Buffer.byteLength(body), body: (await response.json()) as Answer['body'] };
};

/** Real ids, so that some generated commands reach their aggregate and run. */
const seeded = await (async () => {
  const account = await post(`mutation { openAccount(input: { owner: "fuzz", currency: "EUR", initialBalance: "100" }) { ... on OpenAccountSuccess { account { id } } } }`, {});
  const other = await post(`mutation { openAccount(input: { owner: "fuzz", currency: "EUR", initialBalance: "0" }) { ... on OpenAccountSuccess { account { id } } } }`, {});
  const organization = await post(
    `mutation { registerOrganization(input: { name: "Fuzz", registrationNumber: "", vatNumber: "", vatIsIntraCom: false, country: "BE", createdBy: "fuzz" }) { ... on RegisterOrganizationSuccess { organization { id } } } }`,
    {},
  );
  const events = await post(`{ events(first: 2) { edges { cursor } } }`, {});
  return {
    ids: [account.body.data.openAccount.account.id, other.body.data.openAccount.account.id, organization.body.data.registerOrganization.organization.id] as string[],
    cursors: events.body.data.events.edges.map((edge: { cursor: string }) => edge.cursor) as string[],
  };
})();

const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

/** Strings an attacker tries: control and format characters, lone surrogates, the longest and the empty. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\uD800',
    '\uDFFF',
    '\u202E\u2066',
    '\uFEFF',
    '🧨'.repeat(150),
    'x'.repeat(201),
    'x'.repeat(200_000),
    '%00',
    "'; drop table es.events; --",
    '${7*7}',
    '__proto__',
    'acc_',
    'acc_2ZZZZZZZZZZZZZZZZZZZZZZZZZZ',
    newId('acc'),
    newId('tx'),
    newId('org'),
    newId('ord'),
    newId('mt'),
    cursorOf('c1:99999999999999999999:1'),
    cursorOf('c1:-1:-1'),
    cursorOf('c1:1:1:1'),
    cursorOf('\u0000'),
    'not base64 !',
  ),
  fc.constantFrom(...seeded.ids, ...seeded.cursors),
);

/** Decimal strings: valid, at and past the precision, and every shape the scalar must refuse. */
const hostileDecimal: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '-0', '1', '-1', '0.01', '10.50', '1e3', '+5', ' 5', 'NaN', 'Infinity', '-Infinity', '', '.', '1.', '.1', '0x10'),
  fc.constantFrom('9'.repeat(60), '9'.repeat(61), `0.${'0'.repeat(59)}1`, `1${'0'.repeat(100)}`, '9'.repeat(10_000)),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.tuple(fc.integer(), fc.integer({ min: 0, max: 99 })).map(([units, cents]) => `${units}.${String(cents).padStart(2, '0')}`),
  hostileString,
);

const hostileInt: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1, -1, 50, 100, 101, 500, 501, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, 1.5, Number.MAX_VALUE),
  fc.integer(),
  fc.constantFrom('1', null, true),
);

/** Values for any input type: often well-typed, sometimes not at all (the server must refuse those cleanly). */
const valueOf = (type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> => {
  const nullable = !isNonNullType(type);
  const inner = getNullableType(type) as GraphQLInputType;
  const value = valueOfNullable(inner, depth);
  return nullable ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 5, arbitrary: value }) : value;
};

const valueOfNullable = (type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> => {
  if (isListType(type)) {
    const item = valueOf(type.ofType, depth + 1);
    // Lists at and over their bounds (a hundred event types), and some that are not lists.
    return fc.oneof(
      fc.array(item, { maxLength: 5 }),
      fc.integer({ min: 99, max: 102 }).chain((length) => fc.array(item, { minLength: length, maxLength: length })),
      item,
    );
  }
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    if (depth > 3) return fc.constant({});
    return fc.record(Object.fromEntries(fields.map((field) => [field.name, valueOf(field.type, depth + 1)])), {
      requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name),
    });
  }
  if (isEnumType(type)) return fc.oneof(fc.constantFrom(...type.getValues().map((value) => value.name)), hostileString);
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return hostileInt;
      case 'Float':
        return fc.oneof(fc.double(), hostileInt);
      case 'Boolean':
        return fc.oneof(fc.boolean(), fc.constant('true'));
      case 'Decimal':
        return hostileDecimal;
      case 'JSON':
        return fc.jsonValue({ maxDepth: 3 });
      default:
        return hostileString;
    }
  }
  throw new Error(`no arbitrary for ${String(type)}`);
};

/** A selection of every scalar and enum field two levels down, `__typename` and error codes included. */
const selectionOf = (type: GraphQLOutputType, depth = 0): string => {
  const named = getNamedType(type);
  if (isUnionType(named) || isInterfaceType(named)) {
    const members = isUnionType(named) ? named.getTypes() : schema.getPossibleTypes(named);
    return `{ __typename ${members.map((member) => `... on ${member.name} ${selectionOf(member, depth)}`).join(' ')} }`;
  }
  if (!isObjectType(named)) return '';
  const fields = Object.values(named.getFields()).filter((field) => field.args.every((arg) => !isNonNullType(arg.type)));
  const parts = fields.flatMap((field) => {
    const child = getNamedType(field.type);
    if (isScalarType(child) || isEnumType(child)) return [field.name];
    return depth < 2 ? [`${field.name} ${selectionOf(field.type, depth + 1)}`] : [];
  });
  return `{ __typename ${parts.join(' ')} }`;
};

const operationOf = (kind: 'query' | 'mutation' | 'subscription', field: GraphQLField<unknown, unknown>) => {
  const variables = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`);
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`);
  return `${kind} Fuzz${variables.length ? `(${variables.join(', ')})` : ''} { ${field.name}${args.length ? `(${args.join(', ')})` : ''} ${selectionOf(field.type)} }`;
};

/**
 * Variables for the field's arguments. Over HTTP they travel as JSON: a lone surrogate survives
 * JSON.stringify as an escape and reaches the server as itself.
 */
const variablesOf = (field: GraphQLField<unknown, unknown>) =>
  fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, valueOf(arg.type)])), {
    requiredKeys: field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => arg.name),
  });

/** Every error the client sees names a stable code, and none of them is an internal one. */
const expectTyped = (answer: Answer, context: string) => {
  if (answer.status === 413) {
    // A list of 200,000-character strings outgrows the body limit: refused before parsing, with its code.
    expect(answer.sent, context).toBeGreaterThan(maxBodyBytes);
    expect(answer.body.errors?.[0]?.extensions?.code, context).toBe('REQUEST_TOO_LARGE');
    return;
  }
  expect([200, 400], context).toContain(answer.status);
  for (const error of answer.body.errors ?? []) {
    expect(error.extensions?.code, `${context}: ${error.message}`).toMatch(/^[A-Z_]+$/);
    expect(error.extensions?.code, context).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.message, context).not.toBe('Unexpected error.');
  }
};

/** What a command leaves behind: events, streams, idempotency keys and every projection's rows. */
const footprint = async (): Promise<string> => {
  const result = await app.services.db.execute(sql`select
    (select count(*) from es.events) as events,
    (select count(*) from es.streams) as streams,
    (select count(*) from es.idempotency_keys) as keys,
    (select coalesce(sum(version), 0) from es.streams) as versions`);
  return JSON.stringify(result[0]);
};

/** The footprint after one more event on an existing stream, and its idempotency key if it had one. */
const withOneMoreEvent = (footprint: string, keyed: boolean): string => {
  const counts = JSON.parse(footprint) as Record<string, string>;
  const plus = (count: string | undefined, by: number) => String(Number(count) + by);
  return JSON.stringify({
    events: plus(counts.events, 1),
    streams: counts.streams,
    keys: plus(counts.keys, keyed ? 1 : 0),
    versions: plus(counts.versions, 1),
  });
};

const lastEventOf = async (aggregateId: string) => {
  const rows = await app.services.db.execute(
    sql`select type, version from es.events where aggregate_id = ${aggregateId} order by version desc limit 1`,
  );
  return rows[0];
};

const fieldsOf = (kind: 'query' | 'mutation' | 'subscription') => {
  const type = kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return Object.values(type!.getFields());
};

const runs = 40;

describe('hostile arguments, generated from the schema', () => {
  it.each(fieldsOf('mutation').map((field) => [field.name, field] as const))('mutation %s: a success or a typed error, and an error writes nothing but a recorded declined debit', async (name, field) => {
    const query = operationOf('mutation', field);
    await fc.assert(
      fc.asyncProperty(variablesOf(field), async (variables) => {
        const before = await footprint();
        const answer = await post(query, variables);
        expectTyped(answer, name);
        const result = answer.body.data?.[name];
        const failed = answer.body.errors !== undefined || result == null || /Error$/.test(result.__typename);
        if (result?.__typename === 'InsufficientFundsError') {
          // The one error that writes (spec): the declined debit is recorded, with its idempotency key
          // if it had one, and nothing else; a replay of a recorded decline writes nothing.
          const after = await footprint();
          if (after !== before) {
            const key = (variables as { input?: { idempotencyKey?: unknown } }).input?.idempotencyKey;
            expect(await lastEventOf(result.accountId), name).toEqual({ type: 'AccountDebitDeclined', version: result.version });
            expect(after, `${name} wrote more than its AccountDebitDeclined`).toBe(withOneMoreEvent(before, typeof key === 'string'));
          }
        } else if (failed) expect(await footprint(), `${name} wrote on an error`).toBe(before);
        if (result && /Error$/.test(result.__typename)) expect(result.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: runs },
    );
  });

  it.each(fieldsOf('query').map((field) => [field.name, field] as const))('query %s: a success or a typed error', async (name, field) => {
    const query = operationOf('query', field);
    await fc.assert(
      fc.asyncProperty(variablesOf(field), async (variables) => {
        expectTyped(await post(query, variables), name);
      }),
      { numRuns: runs },
    );
  });

  it.each(fieldsOf('subscription').map((field) => [field.name, field] as const))('subscription %s over graphql-ws: listening or a typed error, and the socket stays', async (name, field) => {
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    onTestFinished(() => client.dispose());
    let closed = false;
    client.on('closed', () => void (closed = true));
    const query = operationOf('subscription', field);
    await fc.assert(
      fc.asyncProperty(variablesOf(field), async (variables) => {
        const seen = { next: [] as Answer['body'][], errors: [] as unknown[] };
        const listening = app.services.relay.listenerCount;
        const stop = client.subscribe(
          { query, variables },
          { next: (value) => void seen.next.push(value as Answer['body']), error: (error) => void seen.errors.push(error), complete: () => undefined },
        );
        await waitFor(() => seen.next.length > 0 || seen.errors.length > 0 || app.services.relay.listenerCount > listening, `${name} to answer or listen`);
        stop();
        await waitFor(() => app.services.relay.listenerCount <= listening, `${name} to stop listening`);
        for (const error of seen.errors) {
          expect(Array.isArray(error), `${name}: the socket closed (${String(error)})`).toBe(true);
          expectTyped({ status: 200, sent: 0, body: { errors: error as Answer['body']['errors'] } }, name);
        }
        for (const payload of seen.next) expectTyped({ status: 200, sent: 0, body: payload }, name);
        expect(closed, `${name} closed the socket`).toBe(false);
      }),
      { numRuns: runs },
    );
  });

  it('leaves the server healthy: ready, and a command still runs', async () => {
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const opened = await post(`mutation { openAccount(input: { owner: "after", currency: "EUR", initialBalance: "1" }) { ... on OpenAccountSuccess { account { id } } } }`, {});
    const id = opened.body.data.openAccount.account.id as string;
    const answer = await post(`mutation ($id: ID!) { creditAccount(input: { accountId: $id, amount: "1.10" }) { ... on CreditAccountSuccess { account { balance } } } }`, { id });
    expect(answer.body.data.creditAccount.account.balance).toBe('2.1');
  });
});
