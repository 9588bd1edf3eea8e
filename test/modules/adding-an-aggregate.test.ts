import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * The README's "Adding an aggregate" example, built as a reader would: its code blocks are
 * written into a module folder, the module goes into the registry, drizzle-kit makes its table,
 * and its mutation, queries and events run through the real schema. (The schema is built when
 * the server is first imported, so everything that imports it is imported after the module is
 * registered.)
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Adding an aggregate'), readme.indexOf('## Known issues'));
const blocks = [...section.matchAll(/```ts\n\/\/ src\/modules\/counters\/(\w+\.ts)\n([\s\S]*?)```/g)].map(([, file, code]) => ({
  file: file!,
  code: code!,
}));

// A folder of its own, so that parallel runs and the real tree never meet it.
const folder = path.join(root, 'src', 'modules', `.example-counters-${process.pid}`);
mkdirSync(folder, { recursive: true });
afterAll(() => rmSync(folder, { recursive: true, force: true }));
for (const { file, code } of blocks) writeFileSync(path.join(folder, file), code);

const { modules } = await import('../../src/modules/index.js');
const { countersModule } = (await import(path.join(folder, 'index.ts'))) as { countersModule: (typeof modules)[number] };
modules.push(countersModule);

// Its table, as `npm run db:generate` would make it: drizzle-kit's diff from nothing to the module's tables.
const { generateDrizzleJson, generateMigration } = await import('drizzle-kit/api');
const tables = (await import(path.join(folder, 'projection.ts'))) as Record<string, unknown>;
const statements = await generateMigration(generateDrizzleJson({}), generateDrizzleJson({ counters: tables.counters }));
const admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => undefined });
afterAll(() => admin.end());
for (const statement of statements.filter((text) => !/create schema/i.test(text))) await admin.unsafe(statement);

const { useApp } = await import('../helpers/app.js');
const { execute } = await import('../helpers/graphql.js');
const app = await useApp({ processManagers: [] });

describe('the README’s counter module', () => {
  it('is the five files the README shows', () => {
    expect(blocks.map((block) => block.file)).toEqual(['counter.ts', 'projection.ts', 'aggregate.ts', 'graphql.ts', 'index.ts']);
  });

  it('takes commands, answers queries and records typed events once registered', async () => {
    const increment = `mutation ($input: IncrementCounterInput!) { incrementCounter(input: $input) {
      __typename ... on IncrementCounterSuccess { counter { id total version } } ... on Error { code } ... on ValidationError { field } } }`;
    const first = await execute(app.yoga, increment, { input: { by: 2 } });
    expect(first.data?.incrementCounter).toMatchObject({ __typename: 'IncrementCounterSuccess', counter: { total: 2, version: 1 } });
    const id = first.data!.incrementCounter.counter.id as string;
    expect(id).toMatch(/^ctr_/);
    expect((await execute(app.yoga, increment, { input: { id, by: 3, expectedVersion: 1 } })).data?.incrementCounter).toMatchObject({
      counter: { id, total: 5, version: 2 },
    });
    expect((await execute(app.yoga, increment, { input: { id, by: 0 } })).data?.incrementCounter).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      field: 'by',
    });

    const read = await execute(
      app.yoga,
      `query ($id: ID!) { counter(id: $id) { total events { edges { node { __typename version ... on CounterIncremented { by } } } } }
                          before: counterVersion(id: $id, version: 1) { id total } }`,
      { id },
    );
    expect(read.data).toEqual({
      counter: {
        total: 5,
        events: {
          edges: [
            { node: { __typename: 'CounterIncremented', version: 1, by: 2 } },
            { node: { __typename: 'CounterIncremented', version: 2, by: 3 } },
          ],
        },
      },
      before: { id: `${id}@1`, total: 2 },
    });
  });
});
