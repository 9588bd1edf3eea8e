import { rebuildable } from '../../eventstore/rebuild.js';
import type { Module } from '../module.js';
import { aggregateType } from './organization.js';
import { projectOrganizations } from './projection.js';

/** Organizations (from thefabric-io eventsource): registered, then updated field by field; snapshotted. */
export const organizationsModule: Module = {
  name: 'organizations',
  projections: [rebuildable({ projection: projectOrganizations, aggregateType })],
  graphql: () => import('./graphql.js'),
};
