import { defineAggregate } from '../../eventstore/aggregate.js';
import { snapshotAndTail } from '../../eventstore/loaders.js';
import { respondWithView } from '../../eventstore/view-projection.js';
import { aggregateType, organizationDecider } from './organization.js';
import { organizations, projectOrganizations } from './projection.js';

/**
 * Organizations keep a snapshot every 10 events, written in the command's transaction; commands
 * load the latest snapshot plus the events after it.
 */
export const organizationAggregate = defineAggregate({
  type: aggregateType,
  decider: organizationDecider,
  load: snapshotAndTail(organizationDecider),
  snapshotEvery: 10,
  projections: [projectOrganizations],
  respond: respondWithView(organizations, 'organization'),
});
