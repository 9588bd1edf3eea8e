import { isAsyncIterable, type Plugin } from '@envelop/core';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  Lexer,
  Source,
  TokenKind,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLField,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { defaultPageSize, maxPageSize } from './connection.js';
import { defaultLimits, type Limits } from './limit-values.js';
import { pageResults, resultPage } from './shared-results.js';

export { defaultLimits, type Limits } from './limit-values.js';

/** A JSON value holds a whole event payload: up to a handful of strings. */
export const jsonWeight = 10;

/**
 * The most bytes one unit of cost can answer: a string of 200 characters (every string input is at
 * most that long) each escaped as `\u001f`, with its key (a name of at most `maxNameLength`) and quotes. An operation whose cost times
 * this fits `maxResponseBytes` cannot answer more, so only larger ones are measured.
 */
export const maxBytesPerCost = 1_400;

/** Characters of one name (a field, an alias): an alias is repeated in the answer once per value. */
export const maxNameLength = 100;

/** A refused operation: its error carries a stable code and is answered 400, before anything runs. */
export const refusal = (message: string, code: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

/**
 * Counts the document's tokens and how deep its brackets nest, with graphql-js's own lexer, before
 * it is parsed: the parser recurses into nested literals, and 5,000 of them exhausted the stack
 * (an internal error) before any token limit was reached. Syntax errors are left to the parser.
 */
export const checkSource = (source: string, limits: Pick<Limits, 'maxTokens' | 'maxNesting'>): void => {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  let nesting = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) throw refusal(`The operation has more than ${limits.maxTokens} tokens.`, 'TOO_MANY_TOKENS');
      if (token.kind === TokenKind.NAME && token.value.length > maxNameLength) {
        throw refusal(`The operation has a name longer than ${maxNameLength} characters.`, 'NAME_TOO_LONG');
      }
      if (token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.BRACE_L || token.kind === TokenKind.PAREN_L) {
        if (++nesting > limits.maxNesting) {
          throw refusal(`The operation nests brackets more than ${limits.maxNesting} deep.`, 'TOO_DEEPLY_NESTED');
        }
      } else if (token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.BRACE_R || token.kind === TokenKind.PAREN_R) {
        nesting -= 1;
      }
    }
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code) throw error;
    // A lexical error: the parser reports it, with its location.
  }
};

/** How many values a field answers per value of its parent: lists weigh what their `first` asks for. */
const listWeight = (field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number => {
  const first = field.args.find((arg) => arg.name === 'first');
  if (!first) return 1;
  const asked = typeof args.first === 'number' ? args.first : undefined;
  if (asked !== undefined) return Math.max(0, Math.min(asked, maxPageSize));
  // Absent: a connection's default page, or the list's own cap.
  return isListType(getNullableType(field.type)) ? maxPageSize : defaultPageSize;
};

/** Each field costs one (a JSON value `jsonWeight`), plus its children as many times as it answers values. */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) =>
  (getNamedType(field.type).name === 'JSON' ? jsonWeight : 1) + listWeight(field, args) * childComplexity;

/** Whether a value given to an argument is, or holds, a variable. */
const holdsVariable = (node: ValueNode): boolean => {
  let found = false;
  visit(node, { Variable: () => void (found = true) });
  return found;
};

/**
 * Whether the variables can change the document's cost: the estimator reads only `first`, and
 * graphql-query-complexity also honours `@skip` and `@include`. Any other argument (an id, a
 * mutation's input) changes what is answered, never how much.
 */
const costReadsVariables = (document: DocumentNode): boolean => {
  let reads = false;
  visit(document, {
    Argument: (node) => void (node.name.value === 'first' && holdsVariable(node.value) && (reads = true)),
    Directive: (node) =>
      void ((node.name.value === 'skip' || node.name.value === 'include') && node.arguments?.some((arg) => holdsVariable(arg.value)) && (reads = true)),
  });
  return reads;
};

export type CostCheck = {
  /** The operation's cost with its variables; undefined when they do not fit (execution reports that). */
  cost(args: Pick<ExecutionArgs, 'schema' | 'document' | 'variableValues' | 'operationName'>): number | undefined;
  /** How many times a cost was computed rather than remembered. */
  readonly computed: number;
};

/**
 * The cost check, with the operation's variables (`first: $n`): at execution, because validation
 * results are cached by document, whatever the variables. The cost of a document its variables
 * cannot change is remembered (yoga hands the same parsed document to every request with the
 * same text): computing it took about a tenth of a mutation's server CPU.
 */
export const createCostCheck = (): CostCheck => {
  const byDocument = new WeakMap<DocumentNode, { readonly fixed: boolean; readonly costs: Map<string, number> }>();
  let computed = 0;
  const compute = (args: Parameters<CostCheck['cost']>[0]): number | undefined => {
    computed += 1;
    try {
      return getComplexity({
        schema: args.schema,
        query: args.document,
        variables: (args.variableValues ?? {}) as Record<string, unknown>,
        ...(args.operationName && { operationName: args.operationName }),
        estimators: [estimator],
      });
    } catch {
      return undefined; // variables that do not fit: execution reports them
    }
  };
  return {
    get computed() {
      return computed;
    },
    cost(args) {
      let known = byDocument.get(args.document);
      if (!known) byDocument.set(args.document, (known = { fixed: !costReadsVariables(args.document), costs: new Map() }));
      if (!known.fixed) return compute(args);
      const operation = args.operationName ?? '';
      const remembered = known.costs.get(operation);
      if (remembered !== undefined) return remembered;
      const cost = compute(args);
      if (cost !== undefined) known.costs.set(operation, cost);
      return cost;
    },
  };
};

const costRefusal = (cost: number | undefined, maxCost: number): GraphQLError | undefined => {
  if (cost === undefined || cost <= maxCost) return undefined;
  return refusal(
    `The operation would answer about ${cost} values; the limit is ${maxCost}. Ask for smaller pages (\`first\`) or fewer fields.`,
    'QUERY_TOO_COSTLY',
  );
};

/** Whether an operation of this cost could answer more than the bound (an unknown cost could). */
const mayExceed = (cost: number | undefined, maxResponseBytes: number): boolean => cost === undefined || cost * maxBytesPerCost > maxResponseBytes;

/** Measures the answer's data as JSON: only for operations whose cost does not already bound it. */
const tooLarge = (result: ExecutionResult, maxResponseBytes: number): boolean =>
  result.data != null && Buffer.byteLength(JSON.stringify(result.data)) > maxResponseBytes;

const responseTooLarge = (maxResponseBytes: number) =>
  refusal(
    `The answer would be larger than ${maxResponseBytes} bytes. Ask for smaller pages (\`first\`) or fewer fields.`,
    'RESPONSE_TOO_LARGE',
  );

/** graphql-armor's rejection, reported as ours: a code and a message that says what happened. */
const withCode =
  (code: string, message: string) =>
  (context: ValidationContext | null): void => {
    context?.reportError(refusal(message, code));
  };

/**
 * Bounds the work one operation may ask for, with the limits above: tokens and nesting before
 * parsing; depth and aliases (graphql-armor, `__typename` included) as validation rules; cost
 * (graphql-query-complexity) before execution, when the variables are known. Each refusal is a GraphQL error with a stable code, answered
 * 400 with an honest message (graphql-armor's own say "Syntax Error").
 */
export const operationLimits = (limits: Limits = defaultLimits): Plugin => {
  const costs = createCostCheck();
  return {
    onParse({ params }) {
      checkSource(typeof params.source === 'string' ? params.source : params.source.body, limits);
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError && !result.extensions.code) replaceParseResult(withErrorCode(result, 'GRAPHQL_PARSE_FAILED'));
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const cost = costs.cost(args);
      const refused = costRefusal(cost, limits.maxCost);
      if (refused) return void setResultAndStopExecution({ errors: [refused] });
      const measure = mayExceed(cost, limits.maxResponseBytes);
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          if (measure && tooLarge(result, limits.maxResponseBytes)) return void setResult({ errors: [responseTooLarge(limits.maxResponseBytes)] });
          const coded = withInputErrorCodes(result);
          if (coded) setResult(coded);
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const cost = costs.cost(args);
      const refused = costRefusal(cost, limits.maxCost);
      if (refused) return void setResultAndStopExecution({ errors: [refused] });
      const measure = mayExceed(cost, limits.maxResponseBytes);
      return {
        onSubscribeResult: ({ result, setResult }) => {
          // Refused before it started (variables that do not fit their types): the same codes as a query.
          if (!isAsyncIterable(result)) {
            const coded = withInputErrorCodes(result);
            if (coded) setResult(coded);
            return;
          }
          if (!measure) return;
          return {
            onNext({ result: next, setResult: replace }) {
              const sized = (result: ExecutionResult) => (tooLarge(result, limits.maxResponseBytes) ? { errors: [responseTooLarge(limits.maxResponseBytes)] } : result);
              const page = pageResults(next);
              if (!page) {
                const checked = sized(next);
                if (checked !== next) replace(checked);
                return;
              }
              const checked = page.map(sized);
              if (checked.some((result, index) => result !== page[index])) replace(resultPage(checked));
            },
          };
        },
      };
    },
    onValidate({ addValidationRule }) {
      addValidationRule(
        maxDepthRule({
          n: limits.maxDepth,
          flattenFragments: true,
          propagateOnRejection: false,
          onReject: [withCode('QUERY_TOO_DEEP', `The operation's depth is over the limit of ${limits.maxDepth} (fields nested in fields, fragments included).`)],
        }),
      );
      addValidationRule(
        maxAliasesRule({
          n: limits.maxAliases,
          allowList: [],
          propagateOnRejection: false,
          onReject: [withCode('TOO_MANY_ALIASES', `The operation has more than ${limits.maxAliases} aliases (\`__typename\` included).`)],
        }),
      );
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withErrorCode(error as GraphQLError, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
  };
};

/**
 * An error of graphql-js's own about the request (a variable that does not fit its type, its
 * cause a scalar's GraphQLError), not a thrown one: those carry a plain Error in `originalError`
 * and are masked, never relabelled.
 */
const isUncodedInputError = (error: GraphQLError): boolean =>
  !error.extensions?.code && (error.originalError == null || error.originalError instanceof GraphQLError);

/**
 * An operation refused before it ran (variables that do not fit their types) answers no data and
 * graphql-js's own errors: those get BAD_USER_INPUT. Undefined when there is nothing to recode.
 */
const withInputErrorCodes = (result: ExecutionResult): ExecutionResult | undefined =>
  result.data === undefined && result.errors?.some(isUncodedInputError)
    ? { ...result, errors: result.errors.map((error) => (isUncodedInputError(error) ? withErrorCode(error, 'BAD_USER_INPUT') : error)) }
    : undefined;

/** The error with `code` when it has none: every error a client gets carries a stable code. */
const withErrorCode = (error: GraphQLError, code: string): GraphQLError =>
  error.extensions?.code
    ? error
    : new GraphQLError(error.message, {
        ...(error.nodes && { nodes: error.nodes }),
        ...(error.source && { source: error.source }),
        ...(error.positions && { positions: error.positions }),
        ...(error.path && { path: error.path }),
        extensions: { ...error.extensions, code },
      });
