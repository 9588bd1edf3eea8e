import { eq } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import { viewAtVersion } from '../../eventstore/view-projection.js';
import { checkIdempotencyKey, clientIdOrNew, existingId } from '../../graphql/input.js';
import { builder } from '../../graphql/builder.js';
import { projectionChanges, rowAsOfEvent } from '../../graphql/changes.js';
import { commandContext } from '../../graphql/command.js';
import { connectionType, pageById } from '../../graphql/connection.js';
import { commandErrors, userInputError } from '../../graphql/errors.js';
import { EventInterface, eventType } from '../../graphql/event.js';
import { NodeInterface, registerNode } from '../../graphql/node.js';
import { registerOrganization, updateOrganization } from './commands.js';
import {
  detailFields,
  idPrefix,
  isCountryCode,
  type OrganizationDetails,
  type OrganizationEvent,
} from './organization.js';
import { evolveOrganizationView, findOrganization, organizations, type OrganizationView } from './projection.js';

export const OrganizationType = builder.objectRef<OrganizationView>('Organization').implement({
  description: 'An organization (from thefabric-io eventsource): registered once, then updated field by field.',
  interfaces: [NodeInterface],
  isTypeOf: (value) =>
    typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.startsWith(`${idPrefix}_`),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'An `org_` KSUID.' }),
    name: t.exposeString('name', { description: 'Its name (1–200 characters).' }),
    registrationNumber: t.exposeString('registrationNumber', { description: 'Company registration number; may be empty.' }),
    vatNumber: t.exposeString('vatNumber', { description: 'VAT number; may be empty.' }),
    vatIsIntraCom: t.exposeBoolean('vatIsIntraCom', { description: 'Whether the VAT number is valid for intra-Community trade.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 code, e.g. `BE`.' }),
    createdBy: t.exposeString('createdBy', { description: 'Who registered it.' }),
    updatedBy: t.exposeString('updatedBy', { nullable: true, description: 'Who changed it last; null until the first change.' }),
    version: t.exposeInt('version', { description: 'Stream version this row reflects.' }),
    registeredAt: t.field({ type: 'DateTime', description: 'When it was registered.', resolve: (v) => v.registeredAt }),
    createdAt: t.field({ type: 'DateTime', description: 'When the registration was recorded.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When its last change was recorded.', resolve: (v) => v.updatedAt }),
    events: t.field({
      type: [EventInterface],
      description: 'Its stream, oldest first.',
      resolve: (v, _, { services }) => services.store.readStream(v.id),
    }),
  }),
});

eventType<Extract<OrganizationEvent, { type: 'OrganizationRegistered' }>>(
  'OrganizationRegistered',
  'An organization was registered.',
  (t) => ({
    name: t.string({ description: 'Its name.', resolve: (e) => e.data.name }),
    registrationNumber: t.string({ description: 'Registration number.', resolve: (e) => e.data.registrationNumber }),
    vatNumber: t.string({ description: 'VAT number.', resolve: (e) => e.data.vatNumber }),
    vatIsIntraCom: t.boolean({ description: 'Intra-Community VAT.', resolve: (e) => e.data.vatIsIntraCom }),
    country: t.string({ description: 'ISO 3166-1 alpha-2 code.', resolve: (e) => e.data.country }),
    createdBy: t.string({ description: 'Who registered it.', resolve: (e) => e.data.createdBy }),
  }),
);

eventType<Extract<OrganizationEvent, { type: 'OrganizationUpdated' }>>(
  'OrganizationUpdated',
  'Some fields of an organization changed; the others are null here.',
  (t) => ({
    name: t.string({ nullable: true, description: 'The new name, if it changed.', resolve: (e) => e.data.name ?? null }),
    registrationNumber: t.string({
      nullable: true,
      description: 'The new registration number, if it changed.',
      resolve: (e) => e.data.registrationNumber ?? null,
    }),
    vatNumber: t.string({ nullable: true, description: 'The new VAT number, if it changed.', resolve: (e) => e.data.vatNumber ?? null }),
    vatIsIntraCom: t.boolean({
      nullable: true,
      description: 'The new intra-Community flag, if it changed.',
      resolve: (e) => e.data.vatIsIntraCom ?? null,
    }),
    country: t.string({ nullable: true, description: 'The new country, if it changed.', resolve: (e) => e.data.country ?? null }),
    updatedBy: t.string({ description: 'Who changed it.', resolve: (e) => e.data.updatedBy }),
  }),
);

registerNode(idPrefix, 'Organization', (id, { services }) => findOrganization(services.db, id));

const checkId = (id: string | number | null | undefined): string => clientIdOrNew(idPrefix, id);


const RegisterOrganizationInput = builder.inputType('RegisterOrganizationInput', {
  description: 'Register an organization.',
  fields: (t) => ({
    id: t.id({ description: 'Your own `org_` KSUID; generated when absent.' }),
    name: t.string({ required: true, description: 'Its name (1–200 characters).' }),
    registrationNumber: t.string({ required: true, description: 'Registration number (at most 200 characters; may be empty).' }),
    vatNumber: t.string({ required: true, description: 'VAT number (at most 200 characters; may be empty).' }),
    vatIsIntraCom: t.boolean({ required: true, description: 'Whether the VAT number is valid for intra-Community trade.' }),
    country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 code in capitals, e.g. `BE`.' }),
    createdBy: t.string({ required: true, description: 'Who registers it (1–200 characters).' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

const UpdateOrganizationInput = builder.inputType('UpdateOrganizationInput', {
  description: 'Change some fields of an organization; absent (or null) fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The organization.' }),
    expectedVersion: t.int({ description: 'Fail with CONCURRENCY_CONFLICT unless the organization is at this version.' }),
    name: t.string({ description: 'A new name (1–200 characters).' }),
    registrationNumber: t.string({ description: 'A new registration number.' }),
    vatNumber: t.string({ description: 'A new VAT number.' }),
    vatIsIntraCom: t.boolean({ description: 'A new intra-Community flag.' }),
    country: t.string({ description: 'A new ISO 3166-1 alpha-2 code.' }),
    updatedBy: t.string({ required: true, description: 'Who changes it (1–200 characters).' }),
    idempotencyKey: t.string({ description: 'Retries with the same key return the first result.' }),
  }),
});

/** The fields the client set; GraphQL's null means "leave it". */
const changesOf = (input: { [K in keyof OrganizationDetails]?: OrganizationDetails[K] | null }): Partial<OrganizationDetails> =>
  Object.fromEntries(detailFields.flatMap((field) => (input[field] == null ? [] : [[field, input[field]]])));

builder.mutationFields((t) => ({
  registerOrganization: t.field({
    type: OrganizationType,
    description: 'Register an organization.',
    args: { input: t.arg({ type: RegisterOrganizationInput, required: true, description: 'What to register.' }) },
    errors: {
      types: [...commandErrors, AlreadyExistsError],
      union: { description: 'The registered organization, or why it could not be registered.' },
      result: { description: 'The organization was registered.' },
      dataField: { name: 'organization', description: 'The organization as this command wrote it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = checkId(input.id);
      const { idempotencyKey: _key, id: _id, ...details } = input;
      const result = await registerOrganization(
        context.services.store,
        { id, ...details },
        commandContext('registerOrganization', input, context),
      );
      return result.result;
    },
  }),
  updateOrganization: t.field({
    type: OrganizationType,
    description: 'Change some fields; only the fields that differ are recorded, and nothing at all when none does.',
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true, description: 'What to change, and by whom.' }) },
    errors: {
      types: [...commandErrors, NotFoundError],
      union: { description: 'The organization after the change, or why it could not be changed.' },
      result: { description: 'The organization after the change (unchanged when nothing differed).' },
      dataField: { name: 'organization', description: 'The organization as this command left it.' },
    },
    resolve: async (_, { input }, context) => {
      checkIdempotencyKey(input.idempotencyKey);
      const id = existingId(idPrefix, input.id, 'organization');
      const result = await updateOrganization(
        context.services.store,
        {
          id,
          changes: changesOf(input),
          updatedBy: input.updatedBy,
          ...(input.expectedVersion != null && { expectedVersion: input.expectedVersion }),
        },
        commandContext('updateOrganization', { ...input, id }, context),
      );
      return result.result;
    },
  }),
}));

const OrganizationConnection = connectionType<OrganizationView>(
  'Organization',
  OrganizationType,
  'A page of organizations, oldest id first.',
);

const countryFilter = (country: string | null | undefined): string | undefined => {
  if (country === null || country === undefined) return undefined;
  if (!isCountryCode(country)) userInputError(new ValidationError('country must be an ISO 3166-1 alpha-2 code', 'country'));
  return country;
};

builder.queryFields((t) => ({
  organization: t.field({
    type: OrganizationType,
    nullable: true,
    description: 'One organization by id; null when it does not exist.',
    args: {
      id: t.arg.id({ required: true, description: 'An `org_` id.' }),
      atVersion: t.arg.int({ description: 'Time travel: the organization as it was right after this version.' }),
    },
    resolve: async (_, { id, atVersion }, { services }) =>
      atVersion === null || atVersion === undefined
        ? ((await findOrganization(services.db, String(id))) ?? null)
        : viewAtVersion(services.store, String(id), atVersion, evolveOrganizationView),
  }),
  organizations: t.field({
    type: OrganizationConnection,
    description: 'All organizations, or those of one country, paged.',
    args: {
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
      country: t.arg.string({ description: 'Only organizations of this ISO 3166-1 alpha-2 country.' }),
    },
    resolve: (_, args, { services }) => {
      const country = countryFilter(args.country);
      return pageById(services.db, organizations, args, country === undefined ? undefined : eq(organizations.country, country));
    },
  }),
}));

builder.subscriptionField('organizationChanged', (t) =>
  t.field({
    type: OrganizationType,
    description: 'The organization after each committed change, from now on; versions only go up.',
    args: { id: t.arg.id({ required: true, description: 'An `org_` id.' }) },
    subscribe: (_, { id }, { services }) =>
      projectionChanges(services, String(id), rowAsOfEvent(services, (key) => findOrganization(services.db, key), evolveOrganizationView)),
    resolve: (view) => view,
  }),
);
