import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.js';

/**
 * The committed typed clients are what `npm run codegen` makes from the committed schema and
 * documents: regenerated in memory and compared file by file, so CI fails on stale output.
 */
const root = resolve(import.meta.dirname, '../..');
const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: root, silent: true }, false);
const stale = 'stale generated code: run `npm run codegen` and commit the result';

describe('codegen output', () => {
  it.each(outputs.map((output) => [relative(root, resolve(root, output.filename)), output.content] as const))('%s is up to date', (file, content) => {
    expect(readFileSync(join(root, file), 'utf8'), stale).toBe(content);
  });

  it('leaves no file behind in the generated folders', () => {
    const generated = new Set(outputs.map((output) => resolve(root, output.filename)));
    const folders = new Set([...generated].map((file) => dirname(file)));
    const present = [...folders].flatMap((folder) => readdirSync(folder).map((name) => join(folder, name)));
    expect(present.filter((file) => !generated.has(file)).map((file) => relative(root, file)), stale).toEqual([]);
  });
});
