import { describe, expect, it } from 'vitest';
import { defaultLimits, maxBytesPerCost, maxNameLength } from '../../src/graphql/limits.js';
import { useApp, useHttpServer } from '../helpers/app.js';

/**
 * The largest answers a request can ask for (issue 13): every string at its longest and escaped
 * six bytes a character, every page full, as many aliases as the limits allow. Each answer is
 * either under the bound or refused, before or after it runs; none is over it.
 */
const app = await useApp({ processManagers: [] });
const { base } = await useHttpServer(app);

type Answer = { status: number; bytes: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };

const post = async (query: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) as Answer['body'] };
};

/** 200 characters that JSON writes as `\u0001`: six bytes each. */
const widest = (n: number) => `${n}`.padEnd(200, '\u0001');

const organizations = 500;
const updates = 500;

const seed = async (): Promise<string> => {
  const ids: string[] = [];
  for (let start = 0; start < organizations; start += 25) {
    const batch = await Promise.all(
      Array.from({ length: 25 }, async (_, n) => {
        const { body } = await post(
          `mutation ($input: RegisterOrganizationInput!) { registerOrganization(input: $input) { ... on RegisterOrganizationSuccess { organization { id } } } }`,
          { input: { name: widest(start + n), registrationNumber: widest(1), vatNumber: widest(2), vatIsIntraCom: true, country: 'BE', createdBy: widest(3), idempotencyKey: widest(start + n) } },
        );
        return body.data!.registerOrganization.organization.id as string;
      }),
    );
    ids.push(...batch);
  }
  const [first] = ids;
  for (let n = 0; n < updates; n += 1) {
    await post(`mutation ($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { __typename } }`, {
      input: { id: first, name: widest(10_000 + n), updatedBy: widest(4) },
    });
  }
  return first!;
};

const id = await seed();

const every = `id name registrationNumber vatNumber vatIsIntraCom country createdBy updatedBy version registeredAt createdAt updatedAt`;
const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `${'a'.repeat(maxNameLength - 3)}${String(i).padStart(3, '0')}: ${field}`).join(' ');
const eventFields = `id type aggregateId aggregateType version position recordedAt data metadata ... on OrganizationUpdated { name updatedBy }`;

/** The widest queries: each fills the cost limit as far as it goes, with the longest names allowed. */
const probes: Record<string, string> = {
  'organizations, full pages': `{ ${aliases(30, `organizations(first: 500) { edges { cursor node { ${every} } } }`)} }`,
  'one organization’s events, full pages': `{ ${aliases(30, `organization(id: "${id}") { events(first: 500) { edges { cursor node { ${eventFields} } } } }`)} }`,
  'the log, full pages': `{ ${aliases(30, `events(first: 500) { edges { cursor node { ${eventFields} } } }`)} }`,
  'organizations, pages that fit the cost': `{ ${aliases(4, `organizations(first: 330) { edges { cursor node { ${every} } } }`)} }`,
  'the log, a page that fits the cost': `{ ${aliases(1, `events(first: 500) { edges { cursor node { ${eventFields} } } }`)} }`,
};

describe('the largest answer any request can produce', () => {
  it('is under the bound or refused with a stable code, for every widest query', async () => {
    const sizes: Record<string, number | string> = {};
    for (const [name, query] of Object.entries(probes)) {
      const answer = await post(query);
      if (answer.body.errors) {
        expect(answer.status, name).toBe(400);
        expect(answer.body.data, name).toBeUndefined();
        const code = answer.body.errors[0]!.extensions?.code;
        expect(['QUERY_TOO_COSTLY', 'RESPONSE_TOO_LARGE'], name).toContain(code);
        sizes[name] = code!;
      } else {
        expect(answer.bytes, name).toBeLessThanOrEqual(defaultLimits.maxResponseBytes + 1_000);
        sizes[name] = answer.bytes;
      }
    }
    // The widest pages that fit the cost are answered; asking beyond the cost is refused before it runs.
    expect(sizes['organizations, full pages']).toBe('QUERY_TOO_COSTLY');
    expect(typeof sizes['the log, a page that fits the cost']).toBe('number');
    // Four full-width pages of organizations fit the cost but not the bytes: measured, then refused.
    expect(sizes['organizations, pages that fit the cost']).toBe('RESPONSE_TOO_LARGE');
  });

  it('answers what fits: an organizations page at the bound’s edge is whole', async () => {
    const answer = await post(`{ ${aliases(1, `organizations(first: 330) { edges { cursor node { ${every} } } }`)} }`);
    expect(answer.body.errors).toBeUndefined();
    expect(answer.bytes).toBeGreaterThan(1_000_000);
    expect(answer.bytes).toBeLessThanOrEqual(defaultLimits.maxResponseBytes);
  });

  it('refuses a name long enough to multiply the answer', async () => {
    const answer = await post(`{ organizations(first: 1) { edges { node { ${'n'.repeat(maxNameLength + 1)}: name } } } }`);
    expect(answer.status).toBe(400);
    expect(answer.body.errors![0]!.extensions?.code).toBe('NAME_TOO_LONG');
  });

  it('measures only what the cost does not bound already: a value is at most maxBytesPerCost bytes', async () => {
    // A page of the widest organizations: each field's bytes over its cost stay under the constant.
    const answer = await post(`{ organizations(first: 10) { edges { node { ${every} } } } }`);
    const nodes = answer.body.data!.organizations.edges as { node: Record<string, unknown> }[];
    for (const { node } of nodes) {
      for (const [field, value] of Object.entries(node)) {
        expect(Buffer.byteLength(JSON.stringify({ [field.padEnd(maxNameLength, 'x')]: value })), field).toBeLessThanOrEqual(maxBytesPerCost);
      }
    }
  });
});
