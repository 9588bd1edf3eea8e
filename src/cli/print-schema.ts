import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from '../graphql/schema.js';

/** `npm run schema:print` writes the served schema to schema.graphql. */
export const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
export const printedSchema = (): string => `${printSchema(schema)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(schemaFile, printedSchema());
  process.stdout.write(`wrote ${schemaFile}\n`);
}
