import type { Plugin } from '@envelop/core';
import { isAsyncIterable } from '@envelop/core';
import {
  createSourceEventStream,
  execute,
  getNamedType,
  GraphQLError,
  isAbstractType,
  isObjectType,
  isScalarType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { isAdmin, type Principal } from '../auth/principal.js';

/** On a shared result: the SharedResults that made it. */
const madeBy = Symbol('cairn.sharedResults');
/** On a shared result: its JSON, once computed. */
const jsonOf = Symbol('cairn.json');
/** On a source event: its executions, by operation key. */
const executionsOf = Symbol('cairn.executions');

/**
 * Sets a mark that copies leave behind: a spread (`{ ...row }`, as a projection's `evolve` makes
 * the next row from the last) copies enumerable symbol-keyed properties, and a copied mark would
 * hand the copy the original's results.
 */
const mark = (target: object, key: symbol, value: unknown) =>
  Object.defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });

/**
 * A result shared by every subscriber of one operation, with its JSON computed at most once.
 * Its marks are symbol-keyed properties, which JSON.stringify leaves out: per event, a weak map
 * entry for each of them cost more (and gave the garbage collector more to trace) than the
 * execution itself.
 */
export type SharedResult = ExecutionResult & { [madeBy]: SharedResults; [jsonOf]: string | undefined };

/** A shared result's JSON, computed once however many subscribers send it; undefined for any other result. */
export const sharedJson = (value: unknown): string | undefined => {
  const owner = typeof value === 'object' && value !== null ? (value as Partial<SharedResult>)[madeBy] : undefined;
  return owner?.serialised(value as SharedResult);
};

/** An operation's per-event execution: the subscription's selection run on one source event. */
type EventExecutor = (payload: unknown, args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;

/** graphql-jit, loaded with the first subscription: with its dependencies it added 60 ms to every start-up. */
let jit: Promise<typeof import('graphql-jit')> | undefined;
const loadJit = () => (jit ??= import('graphql-jit'));

/** graphql-js, for an operation graphql-jit cannot compile. */
const interpreted: EventExecutor = (payload, args) => execute({ ...args, rootValue: payload });

/**
 * Whether graphql-jit may compile the document, which it may not when:
 * - it holds a string or object literal. graphql-jit writes literal arguments into the code it
 *   generates as JSON, then turns every string that starts with its published date marker into
 *   `new Date(<the rest>)`: a client's string would run as code. Clients pass values as
 *   variables, which never enter the code;
 * - an object type it can reach has an `isTypeOf`. graphql-jit calls it with the value alone and
 *   takes a promise for true, while Pothos's type-level auth scopes need the context and may
 *   answer later.
 */
const compilable = (schema: GraphQLSchema, document: DocumentNode): boolean => {
  const typeInfo = new TypeInfo(schema);
  let refused = false;
  const check = (type: GraphQLOutputType | null | undefined) => {
    const named = type ? getNamedType(type) : undefined;
    const objects = named === undefined ? [] : isAbstractType(named) ? schema.getPossibleTypes(named) : isObjectType(named) ? [named] : [];
    if (objects.some((object) => object.isTypeOf !== undefined)) refused = true;
  };
  const enter = () => check(typeInfo.getType());
  const literal = () => void (refused = true);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: enter,
      Field: enter,
      InlineFragment: enter,
      FragmentDefinition: enter,
      StringValue: literal,
      ObjectValue: literal,
    }),
  );
  return !refused;
};

/**
 * The message graphql-jit gives a value its scalar cannot serialise, as cairn's serialisers
 * throw it. graphql-jit turns a serialiser's exception into a GraphQLError holding only its
 * message (`Decimal output must be a string`, a value's text), with no original error: yoga's
 * masking would let it through where graphql-js's result is masked. The marker lets `maskable`
 * give it an original error back, so that masking treats it as graphql-js's.
 */
const unserialisable = 'cairn: a value its type cannot serialise';

/**
 * Each scalar's serialiser for graphql-jit: a GraphQLError (a value the type refuses, as
 * graphql-js reports it) goes through; any other exception, and a value serialised to nothing
 * (graphql-jit's own message would show the value), becomes the marker.
 */
const serialisers = new WeakMap<GraphQLSchema, Record<string, (value: unknown) => unknown>>();
const guardedSerialisers = (schema: GraphQLSchema) => {
  let made = serialisers.get(schema);
  if (!made) {
    made = {};
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isScalarType(type)) continue;
      made[type.name] = (value) => {
        let serialised: unknown;
        try {
          serialised = type.serialize(value);
        } catch (error) {
          if (error instanceof GraphQLError) throw error;
          throw new Error(unserialisable);
        }
        if (serialised === undefined || Number.isNaN(serialised)) throw new Error(unserialisable);
        return serialised;
      };
    }
    serialisers.set(schema, made);
  }
  return made;
};

/** The result with each unserialisable value's error holding an original error, as graphql-js's does: yoga masks it. */
const maskable = (result: ExecutionResult): ExecutionResult => {
  if (!result.errors?.some((error) => error.message === unserialisable)) return result;
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.message === unserialisable ? new GraphQLError(error.message, { path: error.path, originalError: new Error(unserialisable) }) : error,
    ),
  };
};

/** One event's execution for one operation key: its promise, and its result once it has one. */
type Execution = { readonly promise: Promise<SharedResult>; result?: SharedResult };

/**
 * Live subscribers are handed the very same event objects by the relay, so subscribers running
 * the same operation with the same variables can share each event's execution and its JSON: a
 * thousand identical subscriptions cost one execution and one `JSON.stringify` per event, not a
 * thousand. Filters (`aggregateId`, `types`…) run in the event subscription before anything is
 * executed. A subscriber reading back from the table gets events of its own, executed for it.
 *
 * Sharing is sound because what a subscription resolves depends only on the operation and on who
 * asks: the viewer is part of `operationKey` (one key for everyone who reads everything, admins and
 * open servers; one per subject otherwise), since an account reached from a transfer resolves
 * for its owner only.
 */
export class SharedResults {
  /** Executions of source events that take no property (frozen, sealed): rare. */
  private readonly byEvent = new WeakMap<object, Map<string, Execution>>();
  /** Each parsed document's number (part of `operationKey`) and its operations' executors, by operation name. */
  private readonly documents = new WeakMap<DocumentNode, { readonly id: number; readonly executors: Map<string, Promise<EventExecutor>> }>();
  private nextDocumentId = 1;
  /** The shared payload of the graphql-ws message being stringified now (see `webSocketReplacer`). */
  private pending: { readonly token: string; readonly result: SharedResult } | null = null;
  private nextToken = 1;
  /** Operations compiled (graphql-jit): once per parsed document and operation name. */
  compilations = 0;
  /** Events executed, once per distinct operation. */
  executions = 0;
  /** Results turned into JSON, once per shared result. */
  serialisations = 0;
  /** Results handed to subscribers. */
  deliveries = 0;

  /** The envelop plugin: subscriptions map their source events through the shared cache. */
  plugin(): Plugin {
    return {
      onSubscribe: ({ setSubscribeFn }) => {
        setSubscribeFn(async (args) => {
          const source = await createSourceEventStream(args);
          if (!isAsyncIterable(source)) return source;
          return this.map(source, this.operationKey(args), args, await this.executor(args));
        });
      },
    };
  }

  /** True for a result this cache made: its JSON can be taken from `serialised`. */
  isShared(value: unknown): value is SharedResult {
    return typeof value === 'object' && value !== null && (value as Partial<SharedResult>)[madeBy] === this;
  }

  /** The result's JSON, computed on the first call. */
  serialised(result: SharedResult): string {
    let text = result[jsonOf];
    if (text === undefined) {
      text = JSON.stringify(result);
      this.serialisations += 1;
      result[jsonOf] = text;
    }
    return text;
  }

  /**
   * graphql-ws stringifies each `next` message whole, payload included. As its JSON replacer
   * (`holder` is the replacer's `this`) this stands a unique token in for a shared payload, and
   * `spliceWebSocketMessage`, called by the socket's `send` synchronously after the stringify,
   * puts the shared JSON in its place.
   */
  replacePayload(holder: unknown, key: string, value: unknown): unknown {
    if (key !== 'payload' || !this.isShared(value)) return value;
    if ((holder as { type?: unknown }).type !== 'next') return value;
    const token = `\u0000cairn-shared-${this.nextToken++}`;
    this.pending = { token, result: value };
    return token;
  }

  /** A graphql-ws message with its shared payload token replaced by the payload's JSON. */
  spliceWebSocketMessage(data: string): string {
    const pending = this.pending;
    if (!pending) return data;
    const tail = `"payload":${JSON.stringify(pending.token)}}`;
    if (!data.endsWith(tail)) return data;
    this.pending = null;
    return `${data.slice(0, -tail.length)}"payload":${this.serialised(pending.result)}}`;
  }

  /**
   * The source's events as results. Every subscriber of a key after the first finds the event's
   * result made and gets it in the same step as the event, with no promise of its own: per
   * subscriber per event, this is the one step on the way out that is cairn's to make cheap.
   */
  private map(source: AsyncIterable<unknown>, key: string, args: ExecutionArgs, executor: EventExecutor): AsyncIterableIterator<ExecutionResult> {
    const events = source[Symbol.asyncIterator]();
    const step = (event: IteratorResult<unknown>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
      if (event.done) return event as IteratorResult<ExecutionResult>;
      const result = this.result(event.value, key, args, executor);
      return 'then' in result ? result.then(ready, (error: unknown) => failed(error)) : ready(result);
    };
    const ready = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ done: false, value });
    // As graphql-js maps a source: a failed execution ends the source and surfaces the error.
    const failed = async (error: unknown): Promise<never> => {
      await events.return?.();
      throw error;
    };
    return {
      next: () => events.next().then(step),
      return: async () => (await events.return?.()) ?? { done: true, value: undefined },
      throw: async (error: unknown) => {
        if (events.throw) return events.throw(error).then(step);
        await events.return?.();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<ExecutionResult>;
  }

  /** The event's result for this key: the one already made, or a promise of it. */
  private result(payload: unknown, key: string, args: ExecutionArgs, executor: EventExecutor): ExecutionResult | Promise<ExecutionResult> {
    this.deliveries += 1;
    if (typeof payload !== 'object' || payload === null) return this.execute(payload, args, executor);
    const event = payload as { [executionsOf]?: Map<string, Execution> };
    let executions = event[executionsOf] ?? this.byEvent.get(payload);
    if (!executions) {
      executions = new Map();
      if (Object.isExtensible(payload)) mark(payload, executionsOf, executions);
      else this.byEvent.set(payload, executions);
    }
    const made = executions.get(key);
    if (made) return made.result ?? made.promise;
    const execution: Execution = {
      promise: this.execute(payload, args, executor).then((result) => (execution.result = result)),
    };
    executions.set(key, execution);
    return execution.promise;
  }

  private async execute(payload: unknown, args: ExecutionArgs, executor: EventExecutor): Promise<SharedResult> {
    this.executions += 1;
    const result = (await executor(payload, args)) as SharedResult;
    mark(result, madeBy, this);
    mark(result, jsonOf, undefined);
    return result;
  }

  /**
   * The operation compiled to a function by graphql-jit, once per parsed document (yoga caches
   * documents by their text): graphql-js built an execution context and walked the document on
   * every event, about ten times graphql-jit's cost for an event's usual selection. The
   * subscription's source stream is still created by graphql-js; only the per-event step changes.
   * Documents with string or object literals, operations reaching a type with `isTypeOf` (see `compilable`)
   * and those graphql-jit cannot compile stay with graphql-js.
   */
  private executor(args: ExecutionArgs): Promise<EventExecutor> {
    const { executors } = this.document(args.document);
    const name = args.operationName ?? '';
    let executor = executors.get(name);
    if (!executor) {
      executor = this.compile(args);
      executors.set(name, executor);
    }
    return executor;
  }

  private document(document: DocumentNode) {
    let known = this.documents.get(document);
    if (!known) this.documents.set(document, (known = { id: this.nextDocumentId++, executors: new Map() }));
    return known;
  }

  private async compile(args: ExecutionArgs): Promise<EventExecutor> {
    if (!compilable(args.schema, args.document)) return interpreted;
    const { compileQuery, isCompiledQuery } = await loadJit();
    const query = compileQuery(args.schema, args.document, args.operationName ?? undefined, { customSerializers: guardedSerialisers(args.schema) });
    if (!isCompiledQuery(query)) return interpreted;
    this.compilations += 1;
    return (payload, { contextValue, variableValues }) => {
      const result = query.query(payload, contextValue, variableValues ?? {}) as ExecutionResult | Promise<ExecutionResult>;
      return 'then' in result ? result.then(maskable) : maskable(result);
    };
  }

  private operationKey(args: ExecutionArgs): string {
    const { id } = this.document(args.document);
    const principal = (args.contextValue as { principal?: Principal } | undefined)?.principal;
    const viewer = principal === undefined || isAdmin(principal) ? '*' : `@${principal.sub ?? ''}`;
    return `${viewer}:${id}:${args.operationName ?? ''}:${JSON.stringify(args.variableValues ?? {})}`;
  }
}
