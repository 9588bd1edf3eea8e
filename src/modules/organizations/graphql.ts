import { eq } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import { builder } from '../../graphql/builder.js';
import { commandField } from '../../graphql/command-field.js';
import { userInputError } from '../../graphql/errors.js';
import { eventType } from '../../graphql/event.js';
import { clientIdOrNew, existingId } from '../../graphql/input.js';
import { projectionNode } from '../../graphql/projection-node.js';
import { organizationAggregate } from './aggregate.js';
import { detailFields, idPrefix, isCountryCode, type OrganizationDetails, type OrganizationEvent } from './organization.js';
import { evolveOrganizationView, organizations } from './projection.js';

export const OrganizationType = projectionNode({
  name: 'Organization',
  description: 'An organization (from thefabric-io eventsource): registered once, then updated field by field.',
  idPrefix,
  noun: { one: 'organization', many: 'organizations' },
  table: organizations,
  evolve: evolveOrganizationView,
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name (1–200 characters).' }),
    registrationNumber: t.exposeString('registrationNumber', { description: 'Company registration number; may be empty.' }),
    vatNumber: t.exposeString('vatNumber', { description: 'VAT number; may be empty.' }),
    vatIsIntraCom: t.exposeBoolean('vatIsIntraCom', { description: 'Whether the VAT number is valid for intra-Community trade.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 code, e.g. `BE`.' }),
    createdBy: t.exposeString('createdBy', { description: 'Who registered it.' }),
    updatedBy: t.exposeString('updatedBy', { nullable: true, description: 'Who changed it last; null until the first change.' }),
    registeredAt: t.field({ type: 'DateTime', description: 'When it was registered.', resolve: (v) => v.registeredAt }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (v) => v.updatedAt }),
  }),
  list: {
    description: 'All organizations, or those of one country, paged.',
    args: (arg) => ({ country: arg.string({ description: 'Only organizations of this ISO 3166-1 alpha-2 country.' }) }),
    filter: ({ country }) => {
      if (country == null) return undefined;
      if (!isCountryCode(String(country))) userInputError(new ValidationError('country must be an ISO 3166-1 alpha-2 code', 'country'));
      return eq(organizations.country, String(country));
    },
  },
  changed: 'The organization after each committed change, from now on; versions only go up.',
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

const data = { name: 'organization', description: 'The organization as this command wrote it.' };

commandField('registerOrganization', {
  description: 'Register an organization.',
  input: RegisterOrganizationInput,
  inputDescription: 'What to register.',
  type: OrganizationType,
  data,
  errors: [AlreadyExistsError],
  union: 'The registered organization, or why it could not be registered.',
  result: 'The organization was registered.',
  run: ({ id, idempotencyKey: _key, ...details }, call) =>
    call.handle(organizationAggregate, clientIdOrNew(idPrefix, id), { type: 'RegisterOrganization', ...details }, { newStream: true }),
});

commandField('updateOrganization', {
  description: 'Change some fields; only the fields that differ are recorded, and nothing at all when none does.',
  input: UpdateOrganizationInput,
  inputDescription: 'What to change, and by whom.',
  type: OrganizationType,
  data: { name: 'organization', description: 'The organization as this command left it.' },
  errors: [NotFoundError],
  union: 'The organization after the change, or why it could not be changed.',
  result: 'The organization after the change (unchanged when nothing differed).',
  run: (input, call) =>
    call.handle(organizationAggregate, existingId(idPrefix, input.id, 'organization'), {
      type: 'UpdateOrganization',
      changes: changesOf(input),
      updatedBy: input.updatedBy,
    }),
});
