import { eq } from 'drizzle-orm';
import { boolean, index, integer, text, timestamp } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
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
    /** When the database recorded the registration and the latest change (`recordedAt`). */
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
        createdAt: event.recordedAt,
        updatedAt: event.recordedAt,
      };
    case 'OrganizationUpdated':
      return view && { ...view, ...event.data, version: event.version, updatedAt: event.recordedAt };
    default:
      return unreachable(event);
  }
};

/** Inline projection: runs inside the command's transaction. */
export const projectOrganizations = viewProjection(organizations, evolveOrganizationView);

export const findOrganization = async (db: Executor, id: string): Promise<OrganizationView | undefined> => {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id));
  return row;
};
