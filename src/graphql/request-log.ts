import type { Plugin } from '@envelop/core';
import { isAsyncIterable } from '@envelop/core';
import { GraphQLError, getOperationAST, type ExecutionResult } from 'graphql';
import { DomainError } from '../eventstore/errors.js';
import type { Logger } from '../logger.js';
import type { Context } from './context.js';

/** An error a client caused or was told of (a code, a domain error): not the server's failure. */
const expected = (error: GraphQLError): boolean =>
  Boolean(error.extensions?.code) || error.originalError instanceof DomainError || (error.originalError instanceof GraphQLError && Boolean(error.originalError.extensions?.code));

const logUnexpected = (logger: Logger, context: Context, operationName: string | undefined, result: ExecutionResult) => {
  for (const error of result.errors ?? []) {
    if (expected(error)) continue;
    logger.error('an operation failed unexpectedly', {
      requestId: context.requestId,
      operationName,
      path: error.path?.join('.'),
      error,
    });
  }
};

/**
 * Logs what fails unexpectedly in an operation, before the answer masks it: the request id, the
 * operation's name, where, and the error as `describeError` tells it (the database's code and
 * message; never the statement, its parameters or the operation's variables).
 */
export const requestLog = (logger: Logger): Plugin<Context> => ({
  onExecute({ args }) {
    const operationName = getOperationAST(args.document, args.operationName)?.name?.value;
    const context = args.contextValue as Context;
    return {
      onExecuteDone({ result }) {
        if (isAsyncIterable(result)) {
          return { onNext: ({ result: next }) => logUnexpected(logger, context, operationName, next) };
        }
        logUnexpected(logger, context, operationName, result);
        return undefined;
      },
    };
  },
  onSubscribe({ args }) {
    const operationName = getOperationAST(args.document, args.operationName)?.name?.value;
    const context = args.contextValue as Context;
    return {
      onSubscribeResult({ result }) {
        if (!isAsyncIterable(result)) logUnexpected(logger, context, operationName, result);
        return { onNext: ({ result: next }) => logUnexpected(logger, context, operationName, next) };
      },
    };
  },
});
