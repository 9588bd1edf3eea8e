import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed clients from the committed schema (`npm run codegen`; `test/client/codegen.test.ts` fails
 * while the committed output differs from what this config generates).
 *
 * - `test/client/generated/`: the typed client of the end-to-end tests and README snippets,
 *   from the operations in `test/client/*.ts`, with `possible-types.ts` for normalised caches
 *   (Apollo's `InMemoryCache({ possibleTypes })`, urql Graphcache's `possibleTypes`):
 *   without it, every `... on Error` of a result union silently reads as empty.
 * - `examples/web/src/gql/`: the example app's, from the operations in its components.
 *
 * Scalars: `Decimal` and `DateTime` are strings on the wire (an exact decimal such as "12.5",
 * an ISO 8601 instant); `JSON` (event `data` and `metadata`) is an object; `ID` is a string.
 */
const scalars = {
  ID: 'string',
  Decimal: 'string',
  DateTime: 'string',
  JSON: 'Record<string, unknown>',
};

const clientPreset = {
  preset: 'client',
  presetConfig: { fragmentMasking: false },
  config: {
    scalars,
    strictScalars: true,
    enumsAsTypes: true,
    useTypeImports: true,
    skipTypename: false,
    avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
  },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'test/client/generated/': {
      ...clientPreset,
      documents: ['test/client/*.ts', '!test/client/*.test.ts'],
      config: { ...clientPreset.config, importExtension: '.js' },
    },
    'test/client/generated/possible-types.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
    'examples/web/src/gql/': {
      ...clientPreset,
      documents: ['examples/web/src/**/*.{ts,tsx}', '!examples/web/src/gql/**'],
    },
  },
};

export default config;
