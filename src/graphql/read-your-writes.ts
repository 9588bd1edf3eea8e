import type { Plugin } from '@envelop/core';
import { isAsyncIterable } from '@envelop/core';
import { getOperationAST, type ExecutionResult } from 'graphql';
import type { Reader } from '../db/read-path.js';
import type { Context, ResolverServices } from './context.js';

/** The header (or request extension `readAfter`) a client sends its read-your-writes token in. */
export const readAfterHeader = 'cairn-read-after';

/** Memoises where one request's queries read: at most one wait for the replica per request. */
export const readerFor = (services: ResolverServices, token: string | undefined): (() => Promise<Reader>) => {
  let chosen: Promise<Reader> | undefined;
  return () => (chosen ??= services.read.reader(token));
};

const withExtensions = (result: ExecutionResult, extensions: Record<string, unknown>): ExecutionResult => ({
  ...result,
  extensions: { ...result.extensions, ...extensions },
});

/**
 * With a read replica: a mutation reads the primary for its whole answer, which carries `extensions.readAfter`, the primary's WAL
 * position after its commit, to send back with the next query; a query that sent one learns in
 * `extensions.readFrom` whether the replica (caught up) or the primary answered it.
 */
export const readYourWrites = (services: ResolverServices): Plugin<Context> => ({
  onExecute({ args, extendContext }) {
    if (!services.read.replica) return;
    const operation = getOperationAST(args.document, args.operationName)?.operation;
    const context = args.contextValue as Context;
    if (operation === 'mutation') {
      // A mutation's answer (its payload's nested fields included) comes from the primary.
      extendContext({ read: async () => services.read.primary });
      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const readAfter = await services.read.tokenAfterCommit();
          if (readAfter !== undefined) setResult(withExtensions(result, { readAfter }));
        },
      };
    }
    if (operation === 'query' && context.readAfter !== undefined) {
      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          setResult(withExtensions(result, { readFrom: (await context.read()).replica ? 'replica' : 'primary' }));
        },
      };
    }
    return;
  },
});
