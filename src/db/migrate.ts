import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import postgres from 'postgres';

/**
 * drizzle-kit's output, `drizzle/` at the project's root: the nearest one above this module, which
 * is src/db/ under tsx and dist/ (or dist/db/) in the compiled build.
 */
export const migrationsFolder = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let folder = here; ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, 'drizzle');
    if (existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
    if (path.dirname(folder) === folder) return path.resolve(here, '../../drizzle');
  }
})();

/** An arbitrary, fixed advisory-lock key: instances starting together migrate one at a time. */
const migrationLock = 7_341_905_112;

/**
 * Applies drizzle-kit's pending migrations in ONE transaction that first takes a
 * transaction-scoped advisory lock, so it works behind a transaction pooler (PgBouncer in
 * transaction mode), where a session lock stays with whichever server connection took it and
 * later instances hung at start. The lock ends with the transaction, however that ends.
 *
 * The bookkeeping is exactly drizzle's own migrator's (`drizzle-orm/pg-core/dialect.js`
 * `migrate()`): table `drizzle.__drizzle_migrations (id serial, hash text, created_at bigint)`,
 * one row per migration file, and a file is pending when its journal timestamp is later than
 * the newest row's `created_at`. Databases migrated by drizzle's migrator keep working, and the
 * other way round. Unlike drizzle's, the lookup runs under the lock, so two instances never
 * apply a migration twice.
 */
export const runMigrations = async (url: string, folder: string = migrationsFolder): Promise<{ applied: number }> => {
  const migrations = readMigrationFiles({ migrationsFolder: folder });
  // Unnamed statements: a pooler may hand each one to a different server connection.
  const client = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => undefined });
  try {
    return await client.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${migrationLock})`;
      await tx`create schema if not exists drizzle`;
      await tx`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`;
      const [last] = await tx<{ created_at: string }[]>`
        select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`;
      const pending = migrations.filter((migration) => !last || Number(last.created_at) < migration.folderMillis);
      for (const migration of pending) {
        for (const statement of migration.sql) await tx.unsafe(statement);
        await tx`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`;
      }
      return { applied: pending.length };
    });
  } finally {
    await client.end({ timeout: 5 });
  }
};
