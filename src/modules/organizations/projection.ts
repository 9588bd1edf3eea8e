import { boolean, index, integer, text, timestamp } from 'drizzle-orm/pg-core';
import { idColumn } from '../../db/columns.js';
import { projection } from '../../db/projection-schema.js';
import { viewProjection, type ViewEvolve } from '../../eventstore/view-projection.js';
import { unreachable } from '../../lib/unreachable.js';
import type { OrganizationEvent } from './organization.js';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' }).notNull();

export const organizations = projection.table(
  'organizations',
  {
    id: idColumn('id').primaryKey(),
    name: text('name').notNull(),
    registrationNumber: text('registration_number').notNull(),
    vatNumber: text('vat_number').notNull(),
    vatIsIntraCom: boolean('vat_is_intra_com').notNull(),
    country: text('country').notNull(),
    createdBy: text('created_by').notNull(),
    updatedBy: text('updated_by'),
    version: integer('version').notNull(),
    /** When the registration was commanded (the event's `occurredAt`). */
    registeredAt: time('registered_at'),
    /**
     * When the row was created and last changed: its events' `occurredAt`, the time of the
     * commands (a projection sees no `recordedAt`: it writes with the append).
     */
    createdAt: time('created_at'),
    updatedAt: time('updated_at'),
  },
  (t) => [index('organizations_country_id').on(t.country, t.id)],
);

export type OrganizationView = typeof organizations.$inferSelect;

/** How each event changes the row: pure, shared by the inline projection and time travel. */
export const evolveOrganizationView: ViewEvolve<OrganizationView, OrganizationEvent> = (view, event) => {
  switch (event.type) {
    case 'OrganizationRegistered':
      return {
        id: event.aggregateId,
        ...event.data,
        updatedBy: null,
        version: event.version,
        registeredAt: event.occurredAt,
        createdAt: event.occurredAt,
        updatedAt: event.occurredAt,
      };
    case 'OrganizationUpdated':
      return view && { ...view, ...event.data, version: event.version, updatedAt: event.occurredAt };
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectOrganizations = viewProjection(organizations, evolveOrganizationView);
