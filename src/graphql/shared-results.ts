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
import { isOwnPage, pagesOf } from '../eventstore/log-subscription.js';

/** On a shared result: the SharedResults that made it. */
const madeBy = Symbol('cairn.sharedResults');
/** On a shared result: its JSON, once computed. */
const jsonOf = Symbol('cairn.json');
/** On a shared result: its JSON as UTF-8 bytes, once computed. */
const bytesOf = Symbol('cairn.jsonBytes');
/** On a source event: its executions, by operation key. */
const executionsOf = Symbol('cairn.executions');
/** On a page of results: its results. */
const resultsOf = Symbol('cairn.pageResults');

/**
 * Results handed over as one value: a subscription whose consumer writes pages (cairn's SSE
 * writer) gets a page of results per step of its iterator instead of one result per step, so
 * the per-step costs on the way out (promises, envelop's hooks, a write) are paid once per page.
 * A page holds no result with errors: such a result goes alone, so that every hook that looks at
 * a result's errors (masking, the request log) sees it as it would without pages.
 */
export type ResultPage = ExecutionResult & { readonly [resultsOf]: readonly ExecutionResult[] };

export const resultPage = (results: readonly ExecutionResult[]): ResultPage => ({ [resultsOf]: results });

/** A page's results; undefined for a single result. */
export const pageResults = (value: unknown): readonly ExecutionResult[] | undefined =>
  typeof value === 'object' && value !== null ? (value as Partial<ResultPage>)[resultsOf] : undefined;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown }).then === 'function';

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
export type SharedResult = ExecutionResult & { [madeBy]: SharedResults; [jsonOf]: string | undefined; [bytesOf]?: Buffer };

/** A shared result's JSON, computed once however many subscribers send it; undefined for any other result. */
export const sharedJson = (value: unknown): string | undefined => {
  const owner = typeof value === 'object' && value !== null ? (value as Partial<SharedResult>)[madeBy] : undefined;
  return owner?.serialised(value as SharedResult);
};

/** An operation's per-event execution: the subscription's selection run on one source event. */
type EventExecutor = (payload: unknown, args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;

type Compiler = typeof import('graphql-jit');

/** graphql-jit, loaded with the first subscription: with its dependencies it added 60 ms to every start-up. */
let jit: Promise<Compiler> | undefined;
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

/** As graphql-js maps a source: a failed execution ends the source and surfaces the error. */
const endWith = async (events: AsyncIterator<unknown>, error: unknown): Promise<never> => {
  await events.return?.();
  throw error;
};

/** One event's execution for one operation key: its result, or its promise until it has one. */
type Execution = { promise?: Promise<SharedResult>; result?: SharedResult };

export type SharedResultsOptions = {
  /** Whether a subscription's consumer takes pages of results (see `ResultPage`), given its context. */
  readonly pagesFor?: (context: unknown) => boolean;
  /** Loads graphql-jit (default: imported with the first subscription, once per process). */
  readonly loadCompiler?: () => Promise<Compiler>;
};

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
  private readonly documents = new WeakMap<DocumentNode, { readonly id: number; readonly executors: Map<string, EventExecutor> }>();
  /** graphql-jit once loaded, and its load while it runs. */
  private compiler: Compiler | undefined;
  private loading: Promise<Compiler> | undefined;
  private nextDocumentId = 1;
  /** The shared payload of the graphql-ws message being stringified now (see `webSocketReplacer`). */
  private pending: { readonly token: string; readonly results: readonly ExecutionResult[] } | null = null;
  private nextToken = 1;
  /** Operations compiled (graphql-jit): once per parsed document and operation name. */
  compilations = 0;
  /** Events executed, once per distinct operation. */
  executions = 0;
  /** Results turned into JSON, once per shared result. */
  serialisations = 0;
  /** Results handed to subscribers. */
  deliveries = 0;
  /** Pages of results handed to subscribers that take pages. */
  pages = 0;

  constructor(private readonly options: SharedResultsOptions = {}) {}

  /** The envelop plugin: subscriptions map their source events through the shared cache. */
  plugin(): Plugin {
    return {
      onSubscribe: ({ setSubscribeFn }) => {
        setSubscribeFn(async (args) => {
          const source = await createSourceEventStream(args);
          if (!isAsyncIterable(source)) return source;
          const key = this.operationKey(args);
          const executor = this.executor(args);
          const pages = this.options.pagesFor?.(args.contextValue) ? pagesOf(source) : undefined;
          return pages ? this.mapPages(pages, source, key, args, executor) : this.map(source, key, args, executor);
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
   * (`holder` is the replacer's `this`) this stands a unique token in for a shared payload or a
   * page of results, and the socket's `send`, called synchronously after the stringify, puts
   * their JSON in its place (`webSocketMessage`, `webSocketPage`): one message per result.
   */
  replacePayload(holder: unknown, key: string, value: unknown): unknown {
    if (key !== 'payload' || (holder as { type?: unknown }).type !== 'next') return value;
    const page = pageResults(value);
    if (!page && !this.isShared(value)) return value;
    const token = `\u0000cairn-shared-${this.nextToken++}`;
    this.pending = { token, results: page ?? [value as SharedResult] };
    return token;
  }

  /**
   * The graphql-ws message `data` stands for: itself, or, when its payload is a token of
   * `replacePayload` for one shared result, the message with that result's JSON spliced in.
   */
  webSocketMessage(data: string): string {
    const taken = this.takeWebSocketPayloads(data);
    return taken ? `${taken.head}${this.json(taken.results[0]!)}}` : data;
  }

  /**
   * When `data`'s payload is a token of `replacePayload` for a page of results: the messages it
   * stands for, one per result, as their common head (`{"id":…,"type":"next","payload":`) and
   * the results whose JSON, then `}`, completes each.
   */
  webSocketPage(data: string): { readonly head: string; readonly results: readonly ExecutionResult[] } | undefined {
    return this.pending && this.pending.results.length > 1 ? this.takeWebSocketPayloads(data) : undefined;
  }

  /** A result's JSON: a shared result's made once. */
  json(result: ExecutionResult): string {
    return this.isShared(result) ? this.serialised(result) : JSON.stringify(result);
  }

  /** A result's JSON as UTF-8 bytes: a shared result's made once. */
  jsonBytes(result: ExecutionResult): Buffer {
    if (!this.isShared(result)) return Buffer.from(JSON.stringify(result));
    let bytes = result[bytesOf];
    if (bytes === undefined) {
      bytes = Buffer.from(this.serialised(result));
      mark(result, bytesOf, bytes);
    }
    return bytes;
  }

  private takeWebSocketPayloads(data: string) {
    const pending = this.pending;
    if (!pending) return undefined;
    const tail = `"payload":${JSON.stringify(pending.token)}}`;
    if (!data.endsWith(tail)) return undefined;
    this.pending = null;
    return { head: `${data.slice(0, -tail.length)}"payload":`, results: pending.results };
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
    const failed = (error: unknown) => endWith(events, error);
    return {
      next: () => events.next().then(step),
      return: async () => (await events.return?.()) ?? { done: true, value: undefined },
      throw: (error: unknown) => (events.throw ? events.throw(error).then(step) : endWith(events, error)),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<ExecutionResult>;
  }

  /**
   * The source's events as pages of results: each step takes what the source holds (a page read
   * from the table, a live batch) and hands its results over as one `ResultPage`, a result with
   * errors alone.
   */
  private mapPages(
    pages: () => Promise<IteratorResult<readonly unknown[], undefined>>,
    source: AsyncIterable<unknown>,
    key: string,
    args: ExecutionArgs,
    executor: EventExecutor,
  ): AsyncIterableIterator<ExecutionResult> {
    const events = source[Symbol.asyncIterator]();
    let held: readonly ExecutionResult[] = []; // made, not handed over yet
    const hand = (): IteratorResult<ExecutionResult> => {
      const failed = held.findIndex((result) => result.errors !== undefined && result.errors.length > 0);
      if (failed === 0) {
        const value = held[0]!;
        held = held.slice(1);
        return { done: false, value };
      }
      const page = failed === -1 ? held : held.slice(0, failed);
      held = failed === -1 ? [] : held.slice(failed);
      this.pages += 1;
      return { done: false, value: resultPage(page) };
    };
    const fail = (error: unknown) => endWith(events, error);
    const step = (page: IteratorResult<readonly unknown[], undefined>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
      if (page.done) return { done: true, value: undefined };
      let results: (ExecutionResult | Promise<ExecutionResult>)[];
      try {
        // Events read from the table for this subscriber alone are executed for it, not shared.
        results = isOwnPage(page.value)
          ? page.value.map((event) => this.executeForOne(event, args, executor))
          : page.value.map((event) => this.result(event, key, args, executor));
      } catch (error) {
        return fail(error);
      }
      if (!results.some(isPromise)) {
        held = results as ExecutionResult[];
        return hand();
      }
      return Promise.all(results).then((made) => {
        held = made;
        return hand();
      }, fail);
    };
    return {
      next: () => (held.length > 0 ? Promise.resolve(hand()) : pages().then(step)),
      return: async () => {
        held = [];
        return (await events.return?.()) ?? { done: true, value: undefined };
      },
      throw: (error: unknown) => {
        held = [];
        return endWith(events, error);
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
    if (made) return made.result ?? made.promise!;
    const outcome = this.execute(payload, args, executor);
    if (!isPromise(outcome)) {
      executions.set(key, { result: outcome });
      return outcome;
    }
    const execution: Execution = { promise: outcome.then((result) => (execution.result = result)) };
    executions.set(key, execution);
    return execution.promise!;
  }

  /** The event's result for one subscriber: nothing kept for others, and no marks (its JSON is made where it is sent). */
  private executeForOne(payload: unknown, args: ExecutionArgs, executor: EventExecutor): ExecutionResult | Promise<ExecutionResult> {
    this.deliveries += 1;
    this.executions += 1;
    try {
      return executor(payload, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The event's execution, without a promise when the executor answers at once (graphql-jit, for resolvers that do). */
  private execute(payload: unknown, args: ExecutionArgs, executor: EventExecutor): SharedResult | Promise<SharedResult> {
    this.executions += 1;
    let outcome: ExecutionResult | Promise<ExecutionResult>;
    try {
      outcome = executor(payload, args);
    } catch (error) {
      return Promise.reject(error);
    }
    return isPromise(outcome) ? outcome.then((result) => this.own(result)) : this.own(outcome);
  }

  private own(result: ExecutionResult): SharedResult {
    mark(result, madeBy, this);
    mark(result, jsonOf, undefined);
    return result as SharedResult;
  }

  /**
   * The operation compiled to a function by graphql-jit, once per parsed document (yoga caches
   * documents by their text): graphql-js built an execution context and walked the document on
   * every event, about ten times graphql-jit's cost for an event's usual selection. The
   * subscription's source stream is still created by graphql-js; only the per-event step changes.
   * Documents with string or object literals, operations reaching a type with `isTypeOf` (see `compilable`)
   * and those graphql-jit cannot compile stay with graphql-js.
   */
  private executor(args: ExecutionArgs): EventExecutor {
    const { executors } = this.document(args.document);
    const name = args.operationName ?? '';
    let executor = executors.get(name);
    if (!executor) {
      executor = this.compiledOnceLoaded(args);
      executors.set(name, executor);
    }
    return executor;
  }

  /**
   * The operation's executor: compiled at once when graphql-jit is loaded; until then graphql-js,
   * while graphql-jit loads and compiles it. Waiting for the load instead held the first
   * subscription after a start for about 220 ms before its first event.
   */
  private compiledOnceLoaded(args: ExecutionArgs): EventExecutor {
    if (!compilable(args.schema, args.document)) return interpreted;
    if (this.compiler) return this.compile(this.compiler, args);
    let current = interpreted;
    this.loading ??= (this.options.loadCompiler ?? loadJit)().then((compiler) => (this.compiler = compiler));
    // A compiler that fails to load, or to compile the operation, leaves it with graphql-js.
    this.loading.then((compiler) => (current = this.compile(compiler, args))).catch(() => undefined);
    return (payload, executionArgs) => current(payload, executionArgs);
  }

  private document(document: DocumentNode) {
    let known = this.documents.get(document);
    if (!known) this.documents.set(document, (known = { id: this.nextDocumentId++, executors: new Map() }));
    return known;
  }

  private compile({ compileQuery, isCompiledQuery }: Compiler, args: ExecutionArgs): EventExecutor {
    let query;
    try {
      query = compileQuery(args.schema, args.document, args.operationName ?? undefined, { customSerializers: guardedSerialisers(args.schema) });
    } catch {
      return interpreted;
    }
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
