import { describe, it } from 'vitest';
import type { OrganizationEvent } from '../../../src/modules/organizations/organization.js';
import { evolveOrganizationView } from '../../../src/modules/organizations/projection.js';
import { occurredAt, viewSpec } from '../../helpers/view.js';

const id = 'org_view';
const { given } = viewSpec(evolveOrganizationView, id);
const details = { name: 'Acme', registrationNumber: '0123.456.789', vatNumber: 'BE0123456789', vatIsIntraCom: true, country: 'BE' };
const registered: OrganizationEvent = { type: 'OrganizationRegistered', data: { ...details, createdBy: 'ada' } };

describe('the organizations row (evolveOrganizationView)', () => {
  it('is made by OrganizationRegistered: registered, created and updated when commanded', () =>
    given([registered]).then({
      id,
      ...details,
      createdBy: 'ada',
      updatedBy: null,
      version: 1,
      registeredAt: occurredAt(0),
      createdAt: occurredAt(0),
      updatedAt: occurredAt(0),
    }));

  it('takes only the fields an update carries, and who made it', () =>
    given([
      registered,
      { type: 'OrganizationUpdated', data: { name: 'Acme 2', updatedBy: 'bob' } },
      { type: 'OrganizationUpdated', data: { country: 'NL', vatIsIntraCom: false, updatedBy: 'eve' } },
    ]).thenMatches({
      ...details,
      name: 'Acme 2',
      country: 'NL',
      vatIsIntraCom: false,
      updatedBy: 'eve',
      version: 3,
      registeredAt: occurredAt(0),
      updatedAt: occurredAt(2),
    }));

  it('has no row for an update without a registration', () =>
    given([{ type: 'OrganizationUpdated', data: { name: 'x', updatedBy: 'bob' } }]).then(undefined));
});
