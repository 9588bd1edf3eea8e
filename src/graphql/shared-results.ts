import type { Plugin } from '@envelop/core';
import { isAsyncIterable } from '@envelop/core';
import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { isAdmin, type Principal } from '../auth/principal.js';

/** A result shared by every subscriber of one operation, with its JSON computed at most once. */
export type SharedResult = ExecutionResult & { readonly stringify: (value: unknown) => string };

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
  private readonly byEvent = new WeakMap<object, Map<string, Execution>>();
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private readonly made = new WeakSet<object>();
  private readonly json = new WeakMap<SharedResult, string>();
  private nextDocumentId = 1;
  /** The shared payload of the graphql-ws message being stringified now (see `webSocketReplacer`). */
  private pending: { readonly token: string; readonly result: SharedResult } | null = null;
  private nextToken = 1;
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
          return this.map(source, this.operationKey(args), args);
        });
      },
    };
  }

  /** True for a result this cache made: its JSON can be taken from `serialised`. */
  isShared(value: unknown): value is SharedResult {
    return typeof value === 'object' && value !== null && this.made.has(value);
  }

  /** The result's JSON, computed on the first call. */
  serialised(result: SharedResult): string {
    let text = this.json.get(result);
    if (text === undefined) {
      text = JSON.stringify(result);
      this.serialisations += 1;
      this.json.set(result, text);
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
  private map(source: AsyncIterable<unknown>, key: string, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> {
    const events = source[Symbol.asyncIterator]();
    const step = (event: IteratorResult<unknown>): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
      if (event.done) return event as IteratorResult<ExecutionResult>;
      const result = this.result(event.value, key, args);
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
  private result(payload: unknown, key: string, args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> {
    this.deliveries += 1;
    if (typeof payload !== 'object' || payload === null) return this.execute(payload, args);
    let executions = this.byEvent.get(payload);
    if (!executions) this.byEvent.set(payload, (executions = new Map()));
    const made = executions.get(key);
    if (made) return made.result ?? made.promise;
    const execution: Execution = {
      promise: this.execute(payload, args).then((result) => (execution.result = result)),
    };
    executions.set(key, execution);
    return execution.promise;
  }

  private async execute(payload: unknown, args: ExecutionArgs): Promise<SharedResult> {
    this.executions += 1;
    const result = (await execute({ ...args, rootValue: payload })) as ExecutionResult;
    // yoga's SSE writer calls `result.stringify` when present; graphql-ws goes through `serialised`.
    const shared = Object.defineProperty(result, 'stringify', {
      value: (value: unknown) => (value === shared ? this.serialised(shared) : JSON.stringify(value)),
      enumerable: false,
    }) as SharedResult;
    this.made.add(shared);
    return shared;
  }

  private operationKey(args: ExecutionArgs): string {
    let id = this.documentIds.get(args.document);
    if (id === undefined) this.documentIds.set(args.document, (id = this.nextDocumentId++));
    const principal = (args.contextValue as { principal?: Principal } | undefined)?.principal;
    const viewer = principal === undefined || isAdmin(principal) ? '*' : `@${principal.sub ?? ''}`;
    return `${viewer}:${id}:${args.operationName ?? ''}:${JSON.stringify(args.variableValues ?? {})}`;
  }
}
