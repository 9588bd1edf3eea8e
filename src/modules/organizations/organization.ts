// The library without its 80 locale files (its Node entry loads them all): codes need no names.
import countries from 'i18n-iso-countries/index.js';
import type { Decider } from '../../eventstore/decider.js';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../eventstore/errors.js';
import type { Event } from '../../eventstore/types.js';
import { unreachable } from '../../lib/unreachable.js';

export const aggregateType = 'Organization';
export const idPrefix = 'org';
export const maxTextLength = 200;

/** What a client may set on an organization, at registration or later. */
export type OrganizationDetails = {
  readonly name: string;
  readonly registrationNumber: string;
  readonly vatNumber: string;
  readonly vatIsIntraCom: boolean;
  readonly country: string;
};

export const detailFields = ['name', 'registrationNumber', 'vatNumber', 'vatIsIntraCom', 'country'] as const;

export type OrganizationEvent =
  | Event<'OrganizationRegistered', OrganizationDetails & { readonly createdBy: string }>
  /** Carries only the fields that changed. */
  | Event<'OrganizationUpdated', Partial<OrganizationDetails> & { readonly updatedBy: string }>;

export type OrganizationCommand =
  | ({ readonly type: 'RegisterOrganization'; readonly createdBy: string } & OrganizationDetails)
  | { readonly type: 'UpdateOrganization'; readonly changes: Partial<OrganizationDetails>; readonly updatedBy: string };

/** JSON-safe: it is also what a snapshot stores. */
export type Organization =
  | { readonly status: 'NONE' }
  | ({ readonly status: 'REGISTERED'; readonly createdBy: string; readonly updatedBy: string | null } & OrganizationDetails);

export const initialState: Organization = { status: 'NONE' };

const alpha2 = /^[A-Z]{2}$/;

/** ISO 3166-1 alpha-2, upper case, as assigned (the code list of `i18n-iso-countries`). */
export const isCountryCode = (code: string): boolean => alpha2.test(code) && countries.isValid(code);

const checkText = (field: string, value: string, required: boolean): void => {
  if (required && value.trim() === '') throw new ValidationError(`${field} must not be empty`, field);
  if (value.length > maxTextLength) {
    throw new ValidationError(`${field} must be at most ${maxTextLength} characters`, field);
  }
};

const checkCountry = (country: string): void => {
  if (!isCountryCode(country)) {
    throw new ValidationError('country must be an ISO 3166-1 alpha-2 code in capitals, e.g. "BE"', 'country');
  }
};

const checkDetails = (details: Partial<OrganizationDetails>): void => {
  if (details.name !== undefined) checkText('name', details.name, true);
  if (details.registrationNumber !== undefined) checkText('registrationNumber', details.registrationNumber, false);
  if (details.vatNumber !== undefined) checkText('vatNumber', details.vatNumber, false);
  if (details.country !== undefined) checkCountry(details.country);
};

const register = (command: Extract<OrganizationCommand, { type: 'RegisterOrganization' }>, state: Organization) => {
  if (state.status !== 'NONE') throw new AlreadyExistsError('this organization already exists');
  const { type: _, ...data } = command;
  checkDetails(data);
  checkText('createdBy', data.createdBy, true);
  return [{ type: 'OrganizationRegistered', data }] as const;
};

/** The requested values that differ from the current ones. */
const changedDetails = (changes: Partial<OrganizationDetails>, current: OrganizationDetails): Partial<OrganizationDetails> =>
  Object.fromEntries(
    detailFields.flatMap((field) =>
      changes[field] !== undefined && changes[field] !== current[field] ? [[field, changes[field]]] : [],
    ),
  );

const update = (command: Extract<OrganizationCommand, { type: 'UpdateOrganization' }>, state: Organization) => {
  checkDetails(command.changes);
  checkText('updatedBy', command.updatedBy, true);
  if (state.status === 'NONE') throw new NotFoundError('no organization has this id');
  const changed = changedDetails(command.changes, state);
  if (Object.keys(changed).length === 0) return [];
  return [{ type: 'OrganizationUpdated', data: { ...changed, updatedBy: command.updatedBy } }] as const;
};

export const decide = (command: OrganizationCommand, state: Organization): readonly OrganizationEvent[] => {
  switch (command.type) {
    case 'RegisterOrganization':
      return register(command, state);
    case 'UpdateOrganization':
      return update(command, state);
    default:
      return unreachable(command);
  }
};

export const evolve = (state: Organization, event: OrganizationEvent): Organization => {
  switch (event.type) {
    case 'OrganizationRegistered':
      return { status: 'REGISTERED', ...event.data, updatedBy: null };
    case 'OrganizationUpdated':
      return state.status === 'REGISTERED' ? { ...state, ...event.data } : state;
    default:
      return unreachable(event);
  }
};

export const organizationDecider: Decider<OrganizationCommand, Organization, OrganizationEvent> = {
  initialState,
  decide,
  evolve,
};
