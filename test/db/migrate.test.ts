import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsFolder, runMigrations } from '../../src/db/migrate.js';
import { useEmptyDatabase } from '../helpers/app.js';

const clients: postgres.Sql[] = [];
afterAll(() => Promise.all(clients.map((client) => client.end())));
const open = (url: string) => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  clients.push(client);
  return client;
};

/** What drizzle's migrator itself would do, for comparison. */
const migrateWithDrizzle = async (url: string, folder = migrationsFolder) => {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await drizzleMigrate(drizzle({ client }), { migrationsFolder: folder });
  } finally {
    await client.end();
  }
};

const bookkeeping = (sql: postgres.Sql) => sql`select id, hash, created_at from drizzle.__drizzle_migrations order by id`;
const bookkeepingTable = (sql: postgres.Sql) => sql`
  select column_name, data_type, column_default, is_nullable from information_schema.columns
   where table_schema = 'drizzle' and table_name = '__drizzle_migrations' order by ordinal_position`;
const tables = (sql: postgres.Sql) => sql`
  select table_schema, table_name from information_schema.tables
   where table_schema in ('es', 'projection', 'public') order by 1, 2`;

/** drizzle/ plus one more migration of two statements, in a folder of its own. */
const withExtraMigration = (statements: readonly string[]) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'cairn-migrations-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  cpSync(migrationsFolder, folder, { recursive: true });
  const journalPath = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number; when: number; tag: string }[] };
  const last = journal.entries.at(-1)!;
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1_000, tag: '9999_extra' });
  writeFileSync(journalPath, JSON.stringify(journal));
  writeFileSync(path.join(folder, '9999_extra.sql'), statements.join('\n--> statement-breakpoint\n'));
  return folder;
};

/** How many migrations the project has: a fresh database gets all of them. */
const shipped = (JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

const [ours, theirs, drizzles, failing] = await Promise.all(Array.from({ length: 4 }, () => useEmptyDatabase()));
const extraFolder = withExtraMigration([
  'CREATE TABLE "public"."migrate_extra" ("id" integer)',
  'INSERT INTO "public"."migrate_extra" VALUES (1)',
]);
const failingFolder = withExtraMigration(['CREATE TABLE "public"."half_done" ("id" integer)', 'SELECT 1 / 0']);

describe('runMigrations', () => {
  it("keeps drizzle's own bookkeeping: same table, same rows as drizzle's migrator writes", async () => {
    expect(await runMigrations(ours!)).toEqual({ applied: shipped });
    await migrateWithDrizzle(theirs!);

    expect(await bookkeepingTable(open(ours!))).toEqual(await bookkeepingTable(open(theirs!)));
    expect(await bookkeeping(open(ours!))).toEqual(await bookkeeping(open(theirs!)));
    expect(await tables(open(ours!))).toEqual(await tables(open(theirs!)));
    expect(await runMigrations(ours!)).toEqual({ applied: 0 });
  });

  it("applies only what is pending on a database drizzle's migrator migrated, and drizzle's then finds nothing to do", async () => {
    const url = drizzles!;
    const folder = extraFolder;
    await migrateWithDrizzle(url);

    expect(await runMigrations(url)).toEqual({ applied: 0 });
    expect(await runMigrations(url, folder)).toEqual({ applied: 1 });
    await migrateWithDrizzle(url, folder);
    expect(await runMigrations(url, folder)).toEqual({ applied: 0 });

    const sql = open(url);
    expect(await sql`select id from public.migrate_extra`).toEqual([{ id: 1 }]);
    expect((await bookkeeping(sql)).length).toBe(shipped + 1);
  });

  it('applies nothing of a run that fails: migrations, bookkeeping and lock all roll back', async () => {
    const url = failing!;
    const folder = failingFolder;

    await expect(runMigrations(url, folder)).rejects.toThrow(/division by zero/);

    const sql = open(url);
    expect(await sql`select to_regclass('drizzle.__drizzle_migrations') as t, to_regclass('es.events') as e`).toEqual([
      { t: null, e: null },
    ]);
    expect(await sql`select count(*)::int as n from pg_locks where locktype = 'advisory'
                      and database = (select oid from pg_database where datname = current_database())`).toEqual([{ n: 0 }]);
    expect(await runMigrations(url)).toEqual({ applied: shipped });
  });
});
