import type { CommandContext } from '../../eventstore/command.js';
import { snapshotAndTail } from '../../eventstore/loaders.js';
import type { PostgresSession } from '../../eventstore/postgres-store.js';
import { createRepository } from '../../eventstore/repository.js';
import type { EventStore } from '../../eventstore/store.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { organizations, projectOrganizations } from './projection.js';
import { aggregateType, organizationDecider, type OrganizationDetails } from './organization.js';

export type OrganizationStore = EventStore<PostgresSession>;

/** thefabric-io's policy: a snapshot every 10 events, written in the command's transaction. */
export const defaultSnapshotEvery = 10;

/** Commands load the latest snapshot plus the events after it. */
export const loadOrganization = snapshotAndTail(organizationDecider);

export const organizationRepository = (store: OrganizationStore, options: { snapshotEvery?: number } = {}) =>
  createRepository(store, {
    aggregateType,
    decider: organizationDecider,
    load: loadOrganization,
    projections: [projectOrganizations],
    snapshotEvery: options.snapshotEvery ?? defaultSnapshotEvery,
    respond: respondWithView(organizations, 'organization'),
  });

export const registerOrganization = (
  store: OrganizationStore,
  input: { id: string; createdBy: string } & OrganizationDetails,
  context: CommandContext,
) => {
  const { id, ...details } = input;
  return organizationRepository(store).update(id, { type: 'RegisterOrganization', ...details }, context);
};

/** Appends only the fields that change; an update that changes nothing appends nothing. */
export const updateOrganization = (
  store: OrganizationStore,
  input: { id: string; changes: Partial<OrganizationDetails>; updatedBy: string; expectedVersion?: number },
  context: CommandContext,
) =>
  organizationRepository(store).update(
    input.id,
    { type: 'UpdateOrganization', changes: input.changes, updatedBy: input.updatedBy },
    context,
    input.expectedVersion,
  );
