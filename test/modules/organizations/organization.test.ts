import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../../src/eventstore/errors.js';
import {
  isCountryCode,
  organizationDecider,
  type OrganizationCommand,
  type OrganizationEvent,
} from '../../../src/modules/organizations/organization.js';
import { deciderSpec } from '../../helpers/decider.js';

const { given } = deciderSpec(organizationDecider);

const details = {
  name: 'Acme',
  registrationNumber: 'BE0123',
  vatNumber: 'BE0123456789',
  vatIsIntraCom: true,
  country: 'BE',
};
const registered = (extra: Partial<typeof details> = {}): OrganizationEvent => ({
  type: 'OrganizationRegistered',
  data: { ...details, ...extra, createdBy: 'alice' },
});
const register = (extra: Partial<Extract<OrganizationCommand, { type: 'RegisterOrganization' }>> = {}): OrganizationCommand => ({
  type: 'RegisterOrganization',
  ...details,
  createdBy: 'alice',
  ...extra,
});
const update = (changes: Partial<typeof details>, updatedBy = 'bob'): OrganizationCommand => ({
  type: 'UpdateOrganization',
  changes,
  updatedBy,
});
const updated = (data: Partial<typeof details>, updatedBy = 'bob'): OrganizationEvent => ({
  type: 'OrganizationUpdated',
  data: { ...data, updatedBy },
});

describe('organization decider', () => {
  it('registers an organization', () => given([]).when(register()).then([registered()]));

  it('allows an empty registration number and VAT number', () =>
    given([]).when(register({ registrationNumber: '', vatNumber: '' })).then([registered({ registrationNumber: '', vatNumber: '' })]));

  it('refuses to register twice', () => given([registered()]).when(register()).thenThrows(AlreadyExistsError, 'ALREADY_EXISTS'));

  it.each([
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name longer than 200 characters', { name: 'n'.repeat(201) }],
    ['an empty createdBy', { createdBy: '' }],
    ['a createdBy longer than 200 characters', { createdBy: 'c'.repeat(201) }],
    ['a registration number longer than 200 characters', { registrationNumber: 'r'.repeat(201) }],
    ['a VAT number longer than 200 characters', { vatNumber: 'v'.repeat(201) }],
    ['an unknown country', { country: 'XX' }],
    ['a lower-case country', { country: 'be' }],
    ['an alpha-3 country', { country: 'BEL' }],
    ['an empty country', { country: '' }],
  ])('refuses %s', (_, change) => given([]).when(register(change)).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('accepts 200 characters', () =>
    given([]).when(register({ name: 'n'.repeat(200) })).then([registered({ name: 'n'.repeat(200) })]));

  it('records only the fields that change', () =>
    given([registered()])
      .when(update({ name: 'Acme Corp', country: 'BE', vatIsIntraCom: false, vatNumber: details.vatNumber }))
      .then([updated({ name: 'Acme Corp', vatIsIntraCom: false })]));

  it('records nothing when nothing changes', () => given([registered()]).when(update({ ...details })).then([]));

  it('records nothing for an empty update', () => given([registered()]).when(update({})).then([]));

  it('compares with the latest values, not the registered ones', () =>
    given([registered(), updated({ name: 'Beta' })])
      .when(update({ name: 'Acme' }))
      .then([updated({ name: 'Acme' })]));

  it('cannot update an unknown organization', () =>
    given([]).when(update({ name: 'x' })).thenThrows(NotFoundError, 'NOT_FOUND'));

  it.each([
    ['an empty updatedBy', update({ name: 'x' }, '')],
    ['a blank name', update({ name: ' ' })],
    ['an invalid country', update({ country: 'ZZ' })],
  ])('refuses an update with %s', (_, command) =>
    given([registered()]).when(command).thenThrows(ValidationError, 'VALIDATION_FAILED'));

  it('evolves registration and updates into the current state', () =>
    given([registered(), updated({ name: 'Beta', country: 'FR' }, 'carol'), updated({ vatIsIntraCom: false }, 'dave')]).thenState({
      status: 'REGISTERED',
      ...details,
      name: 'Beta',
      country: 'FR',
      vatIsIntraCom: false,
      createdBy: 'alice',
      updatedBy: 'dave',
    }));
});

describe('isCountryCode', () => {
  it('knows assigned alpha-2 codes and nothing else', () => {
    expect(['BE', 'FR', 'DE', 'US', 'JP', 'GB'].every(isCountryCode)).toBe(true);
    expect(['UK', 'EU', 'XX', 'be', 'BEL', '', 'B', '12'].some(isCountryCode)).toBe(false);
  });
});
