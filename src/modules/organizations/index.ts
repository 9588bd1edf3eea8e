/** The organizations module's public surface. */
export * from './organization.js';
export { registerOrganization, updateOrganization, organizationRepository, loadOrganization, defaultSnapshotEvery } from './commands.js';
export { organizations, findOrganization, type OrganizationView } from './projection.js';
