import { sql } from 'drizzle-orm';
import KSUID from 'ksuid';
import { describe, expect, it, onTestFinished } from 'vitest';
import { newId } from '../../../src/eventstore/ids.js';
import { replay, snapshotAndTail } from '../../../src/eventstore/loaders.js';
import type { PostgresSession } from '../../../src/eventstore/postgres-store.js';
import type { EventReader, ReadStreamOptions } from '../../../src/eventstore/store.js';

/** How organizations load (the aggregate's loader, on any reader). */
const loadOrganization = snapshotAndTail(organizationDecider);
import { defineAggregate } from '../../../src/eventstore/aggregate.js';
import type { EventStore } from '../../../src/eventstore/store.js';
import { organizationAggregate } from '../../../src/modules/organizations/aggregate.js';
import { organizationDecider } from '../../../src/modules/organizations/organization.js';
import { useApp } from '../../helpers/app.js';
import { execute, subscribeSse } from '../../helpers/graphql.js';
import { waitFor, within } from '../../helpers/wait.js';

const app = await useApp();
const { store, db } = app.services;

type Json = Record<string, any>;

const fields = `id name registrationNumber vatNumber vatIsIntraCom country createdBy updatedBy version registeredAt createdAt updatedAt`;

const registerMutation = `mutation ($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) {
    __typename
    ... on RegisterOrganizationSuccess { organization { ${fields} events { edges { node { __typename type version } } } } }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}`;

const updateMutation = `mutation ($input: UpdateOrganizationInput!) {
  updateOrganization(input: $input) {
    __typename
    ... on UpdateOrganizationSuccess { organization { ${fields} } }
    ... on Error { code message }
    ... on ValidationError { field }
    ... on ConcurrencyConflictError { expectedVersion actualVersion }
  }
}`;

const organizationQuery = `query ($id: ID!) { organization(id: $id) { ${fields} } }`;
/** The version type's own id is `<id>@<version>`; `organizationId` is the organization's. */
const organizationVersionQuery = `query ($id: ID!, $version: Int!) { organizationVersion(id: $id, version: $version) { ${fields.replace(/\bid\b/, 'id: organizationId')} } }`;

const streamQuery = `query ($id: ID!, $afterVersion: Int, $first: Int) {
  stream(aggregateId: $id, afterVersion: $afterVersion, first: $first) {
    __typename type version data metadata
    ... on OrganizationRegistered { name registrationNumber vatNumber vatIsIntraCom country createdBy }
    ... on OrganizationUpdated { uName: name uRegistrationNumber: registrationNumber uVatNumber: vatNumber uVatIsIntraCom: vatIsIntraCom uCountry: country updatedBy }
  }
}`;

const listQuery = `query ($first: Int, $after: String, $country: String) {
  organizations(first: $first, after: $after, country: $country) {
    edges { cursor node { id country } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

const details = { name: 'Acme', registrationNumber: 'BE0123', vatNumber: 'BE0123456789', vatIsIntraCom: true, country: 'BE' };

const register = async (input: Json = {}) => {
  const response = await execute(app.yoga, registerMutation, { input: { ...details, createdBy: 'alice', ...input } });
  expect(response.errors).toBeUndefined();
  return response.data!.registerOrganization as Json;
};

const registered = async (input: Json = {}): Promise<string> => {
  const result = await register(input);
  expect(result.__typename).toBe('RegisterOrganizationSuccess');
  return result.organization.id as string;
};

const update = async (input: Json) => {
  const response = await execute(app.yoga, updateMutation, { input: { updatedBy: 'bob', ...input } });
  expect(response.errors).toBeUndefined();
  return response.data!.updateOrganization as Json;
};

const read = async (id: string, atVersion?: number) => {
  const response =
    atVersion === undefined
      ? await execute(app.yoga, organizationQuery, { id })
      : await execute(app.yoga, organizationVersionQuery, { id, version: atVersion });
  expect(response.errors).toBeUndefined();
  return (atVersion === undefined ? response.data!.organization : response.data!.organizationVersion) as Json | null;
};

const stream = async (id: string, args: { afterVersion?: number; first?: number } = {}) => {
  const response = await execute(app.yoga, streamQuery, { id, ...args });
  expect(response.errors).toBeUndefined();
  return response.data!.stream as Json[];
};

/** An organization with `count` events: registered, then renamed `name 2` … `name <count>`. */
const withEvents = async (count: number): Promise<string> => {
  const id = await registered({ name: 'name 1' });
  for (let version = 2; version <= count; version++) {
    expect(await update({ id, name: `name ${version}`, expectedVersion: version - 1 })).toMatchObject({
      organization: { version },
    });
  }
  return id;
};

const snapshotVersions = async (id: string): Promise<number[]> => {
  const rows = await db.execute<{ version: number }>(
    sql`select version from es.snapshots where aggregate_id = ${id} order by version`,
  );
  return rows.map((row) => row.version);
};

/** A reader that records each readStream call: where it starts, and the versions it returned. */
const recording = <R extends EventReader>(reader: R) => {
  const calls: { after: number | 'the latest snapshot' | undefined; versions: number[] }[] = [];
  const proxy = new Proxy(reader, {
    get(target, property, receiver) {
      if (property === 'readStream') {
        return async (aggregateId: string, options?: ReadStreamOptions) => {
          const events = await target.readStream(aggregateId, options);
          calls.push({ after: options?.afterLatestSnapshot ? 'the latest snapshot' : options?.afterVersion, versions: events.map((event) => event.version) });
          return events;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { reader: proxy, calls };
};

const uniqueKey = () => `key-${KSUID.randomSync().string}`;

describe('registerOrganization', () => {
  it('registers an organization and answers with its projection', async () => {
    const result = await register();
    expect(result.__typename).toBe('RegisterOrganizationSuccess');
    const organization = result.organization;
    expect(organization).toMatchObject({ ...details, createdBy: 'alice', updatedBy: null, version: 1 });
    expect(organization.id).toMatch(/^org_[0-9A-Za-z]{27}$/);
    expect(organization.events.edges.map((edge: { node: unknown }) => edge.node)).toEqual([{ __typename: 'OrganizationRegistered', type: 'OrganizationRegistered', version: 1 }]);
    for (const at of ['registeredAt', 'createdAt', 'updatedAt']) {
      expect(new Date(organization[at]).toISOString()).toBe(organization[at]);
    }
    expect(organization.updatedAt).toBe(organization.createdAt);
    const { events: _, ...projection } = organization;
    expect(await read(organization.id)).toEqual(projection);
  });

  it('uses an id the client supplies, and answers ALREADY_EXISTS for it the second time', async () => {
    const id = newId('org');
    expect(await registered({ id })).toBe(id);
    const again = await register({ id, name: 'Other' });
    expect(again).toMatchObject({ __typename: 'AlreadyExistsError', code: 'ALREADY_EXISTS' });
    expect(await read(id)).toMatchObject({ name: 'Acme', version: 1 });
    expect(await stream(id)).toHaveLength(1);
  });

  it.each([
    ['not a KSUID', 'org_nope'],
    ['of another type', newId('ord')],
  ])('rejects a client id that is %s', async (_, id) => {
    expect(await register({ id })).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'id' });
    expect(await stream(id)).toEqual([]);
  });

  it.each([
    ['an unknown country', { country: 'XX' }, 'country'],
    ['a lower-case country', { country: 'be' }, 'country'],
    ['an alpha-3 country', { country: 'BEL' }, 'country'],
    ['an empty name', { name: '' }, 'name'],
    ['a blank createdBy', { createdBy: ' ' }, 'createdBy'],
    ['a name of 201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['a VAT number of 201 characters', { vatNumber: 'v'.repeat(201) }, 'vatNumber'],
  ])('rejects %s with VALIDATION_FAILED and writes nothing', async (_, change, field) => {
    const id = newId('org');
    expect(await register({ id, ...change })).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field });
    expect(await stream(id)).toEqual([]);
    expect(await read(id)).toBeNull();
  });

  it('answers a repeated command with the same idempotencyKey with the first result and appends nothing', async () => {
    const idempotencyKey = uniqueKey();
    const first = await register({ idempotencyKey });
    const second = await register({ idempotencyKey });
    expect(first.__typename).toBe('RegisterOrganizationSuccess');
    expect(second).toEqual(first);
    const rows = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from es.events where metadata->>'idempotencyKey' = ${idempotencyKey}`,
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe('updateOrganization', () => {
  it('records only the fields that changed, with who changed them', async () => {
    const id = await registered();
    const result = await update({ id, name: 'Acme Corp', country: 'BE', vatIsIntraCom: false, vatNumber: details.vatNumber, updatedBy: 'bob' });
    expect(result).toMatchObject({
      __typename: 'UpdateOrganizationSuccess',
      organization: { ...details, name: 'Acme Corp', vatIsIntraCom: false, updatedBy: 'bob', createdBy: 'alice', version: 2 },
    });
    const [, updated] = await stream(id);
    expect(updated).toMatchObject({
      __typename: 'OrganizationUpdated',
      version: 2,
      data: { name: 'Acme Corp', vatIsIntraCom: false, updatedBy: 'bob' },
      uName: 'Acme Corp',
      uVatIsIntraCom: false,
      uCountry: null,
      uVatNumber: null,
      uRegistrationNumber: null,
      updatedBy: 'bob',
    });
    expect(Object.keys(updated!.data).sort()).toEqual(['name', 'updatedBy', 'vatIsIntraCom']);
    expect(await read(id)).toEqual(result.organization);
  });

  it('appends nothing for an update that changes nothing, and returns the unchanged organization', async () => {
    const id = await registered();
    const before = await read(id);
    const result = await update({ id, ...details, updatedBy: 'someone else' });
    expect(result).toEqual({ __typename: 'UpdateOrganizationSuccess', organization: before });
    expect(await update({ id })).toEqual({ __typename: 'UpdateOrganizationSuccess', organization: before });
    expect(await stream(id)).toHaveLength(1);
    expect(await read(id)).toEqual(before);
  });

  it.each([
    ['an unknown organization id', () => newId('org')],
    ['an id that is not an organization id', () => newId('ord')],
  ])('answers NOT_FOUND for %s and writes nothing', async (_, makeId) => {
    const id = makeId();
    expect(await update({ id, name: 'x' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(await stream(id)).toEqual([]);
  });

  it.each([
    ['an invalid country', { country: 'QQ' }, 'country'],
    ['a blank name', { name: '  ' }, 'name'],
    ['an empty updatedBy', { name: 'x', updatedBy: '' }, 'updatedBy'],
  ])('rejects %s with VALIDATION_FAILED and leaves the organization as it was', async (_, change, field) => {
    const id = await registered();
    const before = await read(id);
    expect(await update({ id, ...change })).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field });
    expect(await read(id)).toEqual(before);
  });

  it('answers CONCURRENCY_CONFLICT when expectedVersion is stale, and applies it when it matches', async () => {
    const id = await registered();
    expect(await update({ id, name: 'Second', expectedVersion: 1 })).toMatchObject({ organization: { version: 2 } });
    const stale = await update({ id, name: 'Third', expectedVersion: 1 });
    expect(stale).toMatchObject({
      __typename: 'ConcurrencyConflictError',
      code: 'CONCURRENCY_CONFLICT',
      expectedVersion: 1,
      actualVersion: 2,
    });
    expect(await read(id)).toMatchObject({ name: 'Second', version: 2 });
    expect(await stream(id)).toHaveLength(2);
  });

  it('answers a retried update with the first result, even after later changes', async () => {
    const id = await registered();
    const idempotencyKey = uniqueKey();
    const first = await update({ id, name: 'Renamed', idempotencyKey });
    await update({ id, name: 'Renamed again' });
    const retried = await update({ id, name: 'Renamed', idempotencyKey });
    expect(first).toMatchObject({ organization: { name: 'Renamed', version: 2 } });
    expect(retried).toEqual(first);
    expect((await stream(id)).map((event) => event.version)).toEqual([1, 2, 3]);
  });
});

describe('snapshots (thefabric-io)', () => {
  it('stores a snapshot at version 10 of an organization with 12 events, in the command transactions', async () => {
    const id = await withEvents(12);
    expect(await snapshotVersions(id)).toEqual([10]);
    const [row] = await db.execute<{ data: unknown }>(sql`select data from es.snapshots where aggregate_id = ${id}`);
    const upTo10 = (await store.readStream(id, { limit: 10 })).reduce(
      (state, event) => organizationDecider.evolve(state, event as never),
      organizationDecider.initialState,
    );
    expect(row!.data).toEqual(upTo10);
    expect(row!.data).toMatchObject({ name: 'name 10' });
  });

  it('loads from the snapshot plus events 11 and 12 only, to the same state as a full replay', async () => {
    const id = await withEvents(12);
    const { reader, calls } = recording(store);
    const loaded = await loadOrganization(reader, id);
    expect(calls).toEqual([{ after: 'the latest snapshot', versions: [11, 12] }]);
    const replayed = await replay(organizationDecider)(store, id);
    expect(loaded).toEqual(replayed);
    expect(loaded).toMatchObject({ version: 12, state: { status: 'REGISTERED', name: 'name 12' } });
  });

  it('reads only the tail when a command runs against a snapshotted organization', async () => {
    const id = await withEvents(12);
    const calls: ReturnType<typeof recording>['calls'] = [];
    const spying: EventStore<PostgresSession> = {
      transaction: (work) =>
        store.transaction((session: PostgresSession) => {
          const recorded = recording(session);
          return work(recorded.reader).finally(() => calls.push(...recorded.calls));
        }),
      readStream: (...args) => store.readStream(...args),
      streamVersion: (...args) => store.streamVersion(...args),
      readLog: (...args) => store.readLog(...args),
      hasEvent: (...args) => store.hasEvent(...args),
      loadSnapshot: (...args) => store.loadSnapshot(...args),
    };
    const context = { commandName: 'updateOrganization', commandId: newId('cmd'), now: new Date() };
    const result = await organizationAggregate.handle(spying, id, { type: 'UpdateOrganization', changes: { name: 'name 13' }, updatedBy: 'eve' }, context);
    expect(result.version).toBe(13);
    expect(calls).toEqual([{ after: 'the latest snapshot', versions: [11, 12] }]);
    expect(await read(id)).toMatchObject({ name: 'name 13', updatedBy: 'eve', version: 13 });
  });

  it('snapshots again when the stream crosses 20, keeping the older one', async () => {
    const id = await withEvents(21);
    expect(await snapshotVersions(id)).toEqual([10, 20]);
    const { reader, calls } = recording(store);
    expect(await loadOrganization(reader, id)).toMatchObject({ version: 21, state: { name: 'name 21' } });
    expect(calls).toEqual([{ after: 'the latest snapshot', versions: [21] }]);
  });

  it('snapshots every N events when the aggregate is told so', async () => {
    const id = newId('org');
    const everyTwo = defineAggregate({ ...organizationAggregate, snapshotEvery: 2 });
    const context = () => ({ commandName: 'test', commandId: newId('cmd'), now: new Date() });
    await everyTwo.handle(store, id, { type: 'RegisterOrganization', ...details, createdBy: 'alice' }, context());
    for (const name of ['b', 'c', 'd', 'e']) {
      await everyTwo.handle(store, id, { type: 'UpdateOrganization', changes: { name }, updatedBy: 'bob' }, context());
    }
    expect(await snapshotVersions(id)).toEqual([2, 4]);
  });
});

describe('organization queries', () => {
  it('returns history from version 5 with limit 3 as versions 5, 6, 7', async () => {
    const id = await withEvents(9);
    const events = await stream(id, { afterVersion: 4, first: 3 });
    expect(events.map((event) => [event.__typename, event.version, event.uName])).toEqual([
      ['OrganizationUpdated', 5, 'name 5'],
      ['OrganizationUpdated', 6, 'name 6'],
      ['OrganizationUpdated', 7, 'name 7'],
    ]);
  });

  it('travels in time with organizationVersion', async () => {
    const id = await registered({ name: 'First', country: 'FR' });
    await update({ id, name: 'Second', updatedBy: 'bob' });
    await update({ id, country: 'DE', updatedBy: 'carol' });
    const now = await read(id);
    expect(await read(id, 1)).toMatchObject({ name: 'First', country: 'FR', updatedBy: null, version: 1 });
    expect(await read(id, 2)).toMatchObject({ name: 'Second', country: 'FR', updatedBy: 'bob', version: 2 });
    expect(await read(id, 3)).toEqual(now);
    expect(await read(id, 4)).toBeNull();
    expect(await read(id, 0)).toBeNull();
    expect(await read(newId('org'), 1)).toBeNull();
  });

  it('resolves node(id) to an Organization', async () => {
    const id = await registered({ name: 'Node Ltd' });
    const node = `query ($id: ID!) { node(id: $id) { __typename id ... on Organization { name country } } }`;
    const found = await execute(app.yoga, node, { id });
    expect(found.data!.node).toEqual({ __typename: 'Organization', id, name: 'Node Ltd', country: 'BE' });
    expect((await execute(app.yoga, node, { id: newId('org') })).data!.node).toBeNull();
  });

  it('filters organizations by country, paging in id order', async () => {
    // No other test registers in Iceland, so the filtered list is exactly ours.
    const mine = [await registered({ country: 'IS' }), await registered({ country: 'IS' }), await registered({ country: 'IS' })];
    const elsewhere = await registered({ country: 'NO' });
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      expect(page).toBeLessThan(10);
      const response = await execute(app.yoga, listQuery, { first: 2, after, country: 'IS' });
      expect(response.errors).toBeUndefined();
      const { edges, pageInfo } = response.data!.organizations as Json;
      expect(edges.length).toBeLessThanOrEqual(2);
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      for (const edge of edges) expect(edge.node.country).toBe('IS');
      seen.push(...edges.map((edge: Json) => edge.node.id));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual([...mine].sort());
    expect(seen).not.toContain(elsewhere);
  });

  it('rejects a country filter that is not an ISO code with VALIDATION_FAILED', async () => {
    const response = await execute(app.yoga, listQuery, { country: 'Belgium' });
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('organizationChanged', () => {
  it('pushes the projection after each committed change, versions going up', async () => {
    // Registered before subscribing: the subscription pushes what changes after the version the
    // stream had then, whatever other files' open transactions do to the commit-safe fence.
    const id = newId('org');
    expect(await registered({ id })).toBe(id);
    const before = app.services.relay.listenerCount;
    const subscription = await subscribeSse(
      app.yoga,
      `subscription ($id: ID!) { organizationChanged(id: $id) { id name country updatedBy version } }`,
      { id },
    );
    onTestFinished(() => subscription.close());
    const two = subscription.take(2); // reading starts the subscription
    await waitFor(() => app.services.relay.listenerCount > before, 'the subscription to listen');
    await update({ id, name: 'Two' });
    await update({ id, country: 'LU', updatedBy: 'carol' });
    const changes = await within(two, 'two changes');
    expect(changes.map((change) => change.data!.organizationChanged)).toEqual([
      { id, name: 'Two', country: 'BE', updatedBy: 'bob', version: 2 },
      { id, name: 'Two', country: 'LU', updatedBy: 'carol', version: 3 },
    ]);
  });
});
