import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeCursor } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { SharedResults } from '../../src/graphql/shared-results.js';
import { createGraphQLServer, defaultLimits } from '../../src/server.js';
import { useApp } from '../helpers/app.js';
import { subscribeSse } from '../helpers/graphql.js';
import { introduce } from '../helpers/introduce.js';
import { appendNumbered } from '../helpers/numbered.js';
import { waitFor } from '../helpers/wait.js';

const app = await useApp({ relayPollMs: 100 });
const { relay, store } = app.services;

type Compiler = typeof import('graphql-jit');

/** A graphql-jit load that finishes when the test says so. */
const gatedCompiler = () => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { load: async (): Promise<Compiler> => (await gate, import('graphql-jit')), open: () => open() };
};

const append = (aggregateType: string, n: number) => store.transaction((session) => appendNumbered(session, aggregateType, n));

describe('subscription operations while graphql-jit loads', () => {
  it('deliver their events with graphql-js until it has loaded, then compiled, with the same results', async () => {
    const t = `Cmp_${newId('t').slice(2, 12)}`;
    await introduce(store, t);
    await relay.settle();
    const compiler = gatedCompiler();
    const shared = new SharedResults({ pagesFor: () => true, loadCompiler: compiler.load });
    const yoga = createGraphQLServer(app.services, defaultLimits, shared);
    const query = 'subscription Numbered($t: String) { events(aggregateType: $t) { id position ... on UntypedEvent { data } } }';
    const idle = relay.listenerCount; // the process managers listen too
    const subscription = await subscribeSse<{ events: { id: string; position: string; data: unknown } }>(yoga, query, { t });
    onTestFinished(() => subscription.close());
    await waitFor(() => relay.listenerCount > idle, 'the subscription to listen');

    // graphql-jit has not loaded: the event still arrives, executed by graphql-js.
    const [first] = await append(t, 1).then(() => subscription.take(1));
    expect(shared.compilations).toBe(0);

    compiler.open();
    await waitFor(() => shared.compilations === 1, 'the operation to be compiled');
    const [second] = await append(t, 2).then(() => subscription.take(1));
    expect(shared.compilations).toBe(1);

    const log = await store.readLog({ aggregateType: t, types: ['Numbered'], limit: 10 });
    expect([first, second]).toEqual(
      log.map((event) => ({ data: { events: { id: event.id, position: encodeCursor(event.logPosition), data: event.data } } })),
    );
  });
});
