import { isAsyncIterable } from '@envelop/core';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The code of an error yoga or one of its plugins raised before the operation ran, by its HTTP status. */
const codeOfStatus = (status: number | undefined, message: string): string => {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return message.includes('CSRF') ? 'CSRF_HEADER_REQUIRED' : 'FORBIDDEN';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status === 406) return 'NOT_ACCEPTABLE';
  if (status === 413) return 'REQUEST_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  return 'BAD_REQUEST';
};

const withCode = (error: GraphQLError): GraphQLError => {
  if (error.extensions?.code) return error;
  const http = error.extensions?.http as { status?: number } | undefined;
  return new GraphQLError(error.message, {
    ...(error.nodes && { nodes: error.nodes }),
    ...(error.path && { path: error.path }),
    extensions: { ...error.extensions, code: codeOfStatus(http?.status, error.message) },
  });
};

/**
 * Every error a client sees carries a stable `extensions.code`: those of the operation get theirs
 * where they arise; this gives one to the errors raised before it (a request yoga could not parse,
 * a missing CSRF header), by their HTTP status.
 */
export const errorCodes = (): Plugin => ({
  onResultProcess({ result, setResult }) {
    if (isAsyncIterable(result) || Array.isArray(result)) return;
    if (!result.errors?.some((error) => !error.extensions?.code)) return;
    setResult({ ...result, errors: result.errors.map((error) => (error instanceof GraphQLError ? withCode(error) : error)) });
  },
});
