import type { Plugin } from '@envelop/core';
import { getOperationAST, GraphQLError, Kind, visit, type ExecutionArgs, type ValueNode } from 'graphql';

/** A NUL, or half of a surrogate pair without its other half: text PostgreSQL cannot store or compare. */
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where in `value` the first unstorable string sits (`owner`, `types.3`), if anywhere. */
export const unstorableIn = (value: unknown, path: string): string | undefined => {
  if (typeof value === 'string') return unstorable.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableIn(item, `${path}.${index}`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = unstorableIn(item, path === '' ? key : `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
};

const literalIsUnstorable = (node: ValueNode, variables: Record<string, unknown>): boolean => {
  switch (node.kind) {
    case Kind.STRING:
      return unstorable.test(node.value);
    case Kind.VARIABLE:
      return unstorableIn(variables[node.name.value], '') !== undefined;
    case Kind.LIST:
      return node.values.some((item) => literalIsUnstorable(item, variables));
    case Kind.OBJECT:
      return node.fields.some((field) => literalIsUnstorable(field.value, variables));
    default:
      return false;
  }
};

/** The first argument of a query or subscription whose value holds an unstorable string. */
const unstorableArgument = (args: ExecutionArgs): string | undefined => {
  const operation = getOperationAST(args.document, args.operationName);
  // A mutation's `input` is checked by its command field, which answers with a ValidationError member.
  if (!operation || operation.operation === 'mutation') return undefined;
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  let found: string | undefined;
  visit(args.document, {
    Argument(node) {
      if (found === undefined && literalIsUnstorable(node.value, variables)) found = node.name.value;
    },
  });
  return found;
};

export const unstorableError = (field: string) =>
  new GraphQLError(`${field} holds a NUL character or a lone surrogate, which cannot be stored`, {
    extensions: { code: 'VALIDATION_FAILED', field },
  });

/**
 * Refuses a query or subscription whose arguments hold a NUL character or a lone surrogate before
 * it runs: PostgreSQL cannot take them, and they came back as internal errors. The answer is
 * VALIDATION_FAILED naming the argument (`extensions.field`).
 */
export const inputGuard = (): Plugin => ({
  onExecute({ args, setResultAndStopExecution }) {
    const field = unstorableArgument(args);
    if (field !== undefined) setResultAndStopExecution({ errors: [unstorableError(field)] });
  },
  onSubscribe({ args, setResultAndStopExecution }) {
    const field = unstorableArgument(args);
    if (field !== undefined) setResultAndStopExecution({ errors: [unstorableError(field)] });
  },
});
