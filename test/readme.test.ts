import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  getNamedType,
  isUnionType,
  Kind,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.js';
import { useApp, useHttpServer, useIsolatedDatabase } from './helpers/app.js';
import { execute } from './helpers/graphql.js';
import { root, spawnCairn, stopProcess, tsx } from './helpers/processes.js';
import { sseParser } from './helpers/sse.js';
import { waitFor } from './helpers/wait.js';

/**
 * Every example in the README, run as a reader pastes it: each GraphQL block parses, validates
 * against the schema, reads every result union with `__typename` and `... on Error`, and its
 * operations run in order against a real server, the ids an operation answers going into the
 * `$variables` of the ones after it (as the block's comments say). The client snippets (curl over
 * SSE, graphql-ws, the typed client resuming from a cursor) run as processes of their own against
 * a server on a free port.
 */
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = (language: string) => [...readme.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);
const graphqlBlocks = blocks('graphql').map((source) => ({ source, document: parse(source) }));

// A database of its own: the snippets follow the log from its first event, which in a shared one
// would be every other test file's events.
const app = await useApp({ relayPollMs: 100, databaseUrl: await useIsolatedDatabase() });
const { base } = await useHttpServer(app);

/** Every field whose type is a union, at its place in the document (`parent.field`). */
const unionSelections = (document: DocumentNode) => {
  const found: { where: string; typename: boolean; onError: boolean }[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const type = typeInfo.getType();
        if (!type || !isUnionType(getNamedType(type)) || !node.selectionSet) return;
        const selections = node.selectionSet.selections;
        found.push({
          where: `${typeInfo.getParentType()?.name}.${node.name.value}`,
          typename: selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename'),
          onError: selections.some((s) => s.kind === Kind.INLINE_FRAGMENT && s.typeCondition?.name.value === 'Error'),
        });
      },
    }),
  );
  return found;
};

/** Ids by prefix (`acc`, `mt`, …) in the order answers gave them. */
const idsIn = (value: unknown, into: Map<string, string[]>) => {
  if (typeof value === 'string' && /^[a-z]+_[0-9A-Za-z]{27}$/.test(value)) {
    const prefix = value.split('_')[0]!;
    const list = into.get(prefix) ?? [];
    if (!list.includes(value)) into.set(prefix, [...list, value]);
  } else if (value && typeof value === 'object') for (const inner of Object.values(value)) idsIn(inner, into);
};

/** What each `$variable` of the README's blocks means, as their comments say. */
const variable = (name: string, ids: Map<string, string[]>): string | undefined =>
  ({
    account: ids.get('acc')?.[0],
    from: ids.get('acc')?.[0],
    to: ids.get('acc')?.[1],
    transfer: ids.get('mt')?.[0],
    order: ids.get('ord')?.[0],
    transaction: ids.get('tx')?.[0],
    organization: ids.get('org')?.[0],
  })[name];

describe('the README’s GraphQL examples', () => {
  it('are there', () => {
    expect(graphqlBlocks.length).toBeGreaterThanOrEqual(5);
  });

  it.each(graphqlBlocks.map((block, n) => [n + 1, block] as const))('block %i validates against the schema', (_n, { document }) => {
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
  });

  it.each(graphqlBlocks.map((block, n) => [n + 1, block] as const))('block %i reads every result union with __typename and ... on Error', (_n, { document }) => {
    for (const selection of unionSelections(document)) expect(selection).toEqual({ where: selection.where, typename: true, onError: true });
  });

  it.each(graphqlBlocks.map((block, n) => [n + 1, block] as const))('block %i runs as pasted, its operations in order', async (_n, { source, document }) => {
    const ids = new Map<string, string[]>();
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    for (const operation of operations) {
      expect(operation.operation, 'a subscription in a README block: run it here too').not.toBe('subscription');
      const variables = Object.fromEntries(
        (operation.variableDefinitions ?? []).map(({ variable: { name } }) => {
          const value = variable(name.value, ids);
          if (value === undefined) throw new Error(`no earlier answer gives $${name.value}`);
          return [name.value, value];
        }),
      );
      const result = await execute(app.yoga, source, variables, {}, operation.name?.value);
      expect(result.errors, `${operation.name?.value}`).toBeUndefined();
      for (const answer of Object.values(result.data ?? {})) {
        if (answer && typeof answer === 'object' && !('edges' in answer)) expect(Object.keys(answer)).not.toEqual([]); // never {}
      }
      idsIn(result.data, ids);
    }
  });
});

const here = (code: string) => code.replaceAll('localhost:4000', base.replace('http://', ''));

/** A README ```ts block, by its first line, written at the repository root so its imports resolve. */
const snippet = (firstLine: string, replace: (code: string) => string): string => {
  const code = blocks('ts').find((block) => block.startsWith(`${firstLine}\n`));
  if (!code) throw new Error(`no README block starts with ${firstLine}`);
  const file = path.join(root, `.readme-${firstLine.replace(/\W+/g, '-')}-${process.pid}.ts`);
  writeFileSync(file, replace(code));
  afterAll(() => rmSync(file, { force: true }));
  return file;
};

// In Node 20, graphql-ws needs a WebSocket: the one a browser has, from `ws`.
const wsSnippet = snippet('// graphql-ws', (code) => `import WebSocket from 'ws';\nObject.assign(globalThis, { WebSocket });\n${here(code)}`);
const typedSnippet = snippet('// the typed client', here);

const openAccount = async (owner: string) => {
  const { data } = await execute(
    app.yoga,
    `mutation ($input: OpenAccountInput!) { openAccount(input: $input) { __typename ... on OpenAccountSuccess { account { id } } } }`,
    { input: { owner, currency: 'EUR', initialBalance: '1' } },
  );
  return data!.openAccount.account.id as string;
};

const credit = async (accountId: string, amount: string) => {
  const { data } = await execute(
    app.yoga,
    `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename } }`,
    { input: { accountId, amount } },
  );
  expect(data!.creditAccount.__typename).toBe('CreditAccountSuccess');
};

describe('the README’s client snippets', () => {
  it('typecheck with the project’s compiler options', () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    const program = ts.createProgram({ rootNames: [wsSnippet, typedSnippet], options: config!.options });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  });

  it('curl over SSE streams the log from its first event', async () => {
    await openAccount('curl');
    await openAccount('curl');
    const command = blocks('sh').find((block) => block.startsWith('curl'));
    const curl = spawnCairn(['-c', `exec ${here(command!)}`], {}, 'sh'); // exec: the signal that stops it reaches curl
    const events = await waitFor(() => {
      const parsed = sseParser()(curl.stdout.slice(0, 20).map((line) => `${line}\n`).join(''));
      return parsed.length >= 2 && parsed;
    }, 'two events from curl');
    await stopProcess(curl);
    expect(events[0]!.event).toBe('next');
    expect(JSON.parse(events[0]!.data).data.events).toMatchObject({ type: expect.any(String), position: expect.any(String), version: 1 });
  });

  it('graphql-ws follows the log and prints each event', async () => {
    const run = spawnCairn(tsx(wsSnippet), {});
    const id = await openAccount('ws');
    await waitFor(() => run.stdout.includes(`AccountOpened ${id} 1`), 'the opening printed', 20_000);
    await stopProcess(run);
  });

  it('the typed client resumes after the stored cursor', async () => {
    const id = await openAccount('typed');
    const { data } = await execute(app.yoga, `query ($id: ID!) { stream(aggregateId: $id) { position } }`, { id });
    const opened = data!.stream[0].position as string;
    await credit(id, '2.5');
    const run = spawnCairn(tsx(typedSnippet), { CURSOR: opened });
    await waitFor(() => run.stdout.some((line) => line.includes(id)), 'the credit printed', 20_000);
    await credit(id, '3');
    await waitFor(() => run.stdout.filter((line) => line.includes(id)).length === 2, 'the live credit printed');
    await stopProcess(run);
    expect(run.stdout.filter((line) => line.includes(id))).toEqual([`AccountCredited ${id} 2 2.5`, `AccountCredited ${id} 3 3`]);
  });
});
