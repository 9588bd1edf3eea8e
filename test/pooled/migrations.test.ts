import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrationsFolder, runMigrations } from '../../src/db/migrate.js';
import { useEmptyDatabase } from '../helpers/app.js';
import { usePgBouncer } from '../helpers/pgbouncer.js';
import { within } from '../helpers/wait.js';

// Issue 11.3: a session advisory lock taken through a transaction pooler stays with whichever
// server connection ran it, and the unlock goes to another one: later instances hung at start.
const pooler = await usePgBouncer();
const database = await useEmptyDatabase();
const direct = postgres(database, { max: 1, onnotice: () => undefined });
afterAll(() => direct.end());

describe('migrations through PgBouncer in transaction mode', () => {
  it('run twice concurrently, then twice again: applied once, no lock left behind, nobody waits', async () => {
    const pooled = pooler.urlFor(database);

    await within(Promise.all([runMigrations(pooled), runMigrations(pooled)]), 'two concurrent migrations', 20_000);
    await within(Promise.all([runMigrations(pooled), runMigrations(pooled)]), 'two more migrations', 20_000);

    const applied = await direct`select hash, created_at from drizzle.__drizzle_migrations order by id`;
    expect(applied.map((row) => row.hash)).toEqual(readMigrationFiles({ migrationsFolder }).map((m) => m.hash));
    const locks = await direct`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
                                where l.locktype = 'advisory' and d.datname = current_database()`;
    expect(locks).toEqual([{ n: 0 }]);
    expect(await direct`select count(*)::int as n from es.events`).toEqual([{ n: 0 }]);
  });
});
