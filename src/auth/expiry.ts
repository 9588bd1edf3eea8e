import { isAsyncIterable, type Plugin } from '@envelop/core';
import type { ExecutionResult } from 'graphql';
import type { Context } from '../graphql/context.js';
import { unauthenticated } from './authenticator.js';

/** The longest delay a timer takes (about 24.8 days); a token living longer is not timed. */
const longestTimer = 2 ** 31 - 1;

/**
 * The stream until `expiresAt`: then one UNAUTHENTICATED error, and its end. The source is closed,
 * so its relay listener goes too.
 */
export const untilExpiry = <T extends ExecutionResult>(source: AsyncIterable<T>, expiresAt: number): AsyncGenerator<T | ExecutionResult> => {
  const iterator = source[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const delay = expiresAt - Date.now();
  const expired = new Promise<'expired'>((resolve) => {
    if (delay <= longestTimer) timer = setTimeout(() => resolve('expired'), Math.max(0, delay));
  });
  let done = false;
  const end = async () => {
    done = true;
    clearTimeout(timer);
    await iterator.return?.();
  };
  const stream: AsyncGenerator<T | ExecutionResult> = {
    async next() {
      if (done) return { done: true, value: undefined };
      const outcome = await Promise.race([iterator.next(), expired]);
      if (outcome === 'expired') {
        void end();
        return { done: false, value: { errors: [unauthenticated('The token has expired: this subscription has ended.')] } };
      }
      if (outcome.done) await end();
      return outcome;
    },
    async return() {
      await end();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  } as AsyncGenerator<T | ExecutionResult>;
  return stream;
};

/** Ends each subscription when the token it was opened with expires (SSE: an error, then the end). */
export const tokenExpiry = (): Plugin<Context> => ({
  onSubscribe({ args }) {
    const expiresAt = (args.contextValue as Context).principal?.expiresAt;
    if (expiresAt === undefined) return;
    return {
      onSubscribeResult({ result, setResult }) {
        if (isAsyncIterable(result)) setResult(untilExpiry(result, expiresAt) as AsyncGenerator<ExecutionResult>);
      },
    };
  },
});
