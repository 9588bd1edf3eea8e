import { defineConfig } from 'drizzle-kit';

// Every table: the event store's, and each module's projection tables (a new module's are found
// without a line here).
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/eventstore/tables.ts', './src/db/projection-schema.ts', './src/modules/*/projection.ts'],
  out: './drizzle',
  schemaFilter: ['es', 'projection'],
});
