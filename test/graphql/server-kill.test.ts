import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../src/db/client.js';
import { encodeCursor, logStart } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { createNotifier } from '../../src/eventstore/notifier.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import type { LogFilter } from '../../src/eventstore/store.js';
import { testLogger, useIsolatedDatabase } from '../helpers/app.js';
import type { GraphQLResponse } from '../helpers/graphql.js';
import { readyPort } from '../helpers/processes.js';
import { sseParser } from '../helpers/sse.js';
import { waitFor, within } from '../helpers/wait.js';

// The server runs as an operator runs it, in a process of its own that this file kills without
// warning; the database is this file's alone, so every event in it is one this file caused.
const url = await useIsolatedDatabase();
const root = fileURLToPath(new URL('../..', import.meta.url));

// Another writer on the same database, as a second instance would be: it rings the doorbell
// with NOTIFY, and keeps writing while the server is dead.
const writer = connect(url, { max: 4, applicationName: 'test-writer' });
afterAll(() => writer.close());
const notifier = createNotifier(writer.sql, testLogger);
const store = new PostgresEventStore(writer.db, () => notifier.ring());

type ServerProcess = {
  readonly base: string;
  /** Its log lines, for failure messages. */
  readonly output: readonly string[];
  readonly child: ChildProcess;
};

// Every child with the promise of its exit; a server that failed to start is stopped here too.
const running = new Map<ChildProcess, Promise<void>>();
afterAll(() => Promise.all([...running.keys()].map(stopServer)));

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

const startServer = async (): Promise<ServerProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      CAIRN_RELAY_POLL_MS: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
  const output: string[] = [];
  let port: number | undefined;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    output.push(line);
    port ??= readyPort(line);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
  const failed = () => hasExited(child) && new Error(`the server exited before it was ready:\n${output.join('\n')}`);
  await waitFor(() => port ?? (failed() || undefined), 'the server to listen', 30_000).catch((error: unknown) => {
    throw failed() || error;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200,
    'the server to be ready',
    30_000,
  );
  return { base, output, child };
};

/** SIGTERM, and SIGKILL when it does not stop in time: no process outlives the file. */
async function stopServer(child: ChildProcess): Promise<void> {
  const exited = running.get(child)!;
  if (!hasExited(child)) child.kill('SIGTERM');
  await within(exited, 'the server to stop', 12_000).catch(() => {
    child.kill('SIGKILL');
    return exited;
  });
}

const killServer = async (server: ServerProcess) => {
  server.child.kill('SIGKILL');
  await running.get(server.child);
  expect(server.child.signalCode).toBe('SIGKILL');
};

const subscription = `subscription ($after: String, $t: String) {
  events(after: $after, aggregateType: $t) { id position }
}`;

type Received = { readonly id: string; readonly position: string };
type Payload = GraphQLResponse<{ events: Received }>;
type Sink = { next(payload: Payload): void; end(reason: unknown): void };
/** Opens one subscription; returns how to close it. */
type Transport = (base: string, variables: Record<string, unknown>, sink: Sink) => () => void;

/** GraphQL over SSE with the global fetch, a real HTTP connection. */
const overSse: Transport = (base, variables, sink) => {
  const abort = new AbortController();
  const read = async () => {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: subscription, variables }),
      signal: abort.signal,
    });
    if (!response.body) throw new Error(`no SSE body (status ${response.status})`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parse = sseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'stream ended';
      for (const { event, data } of parse(decoder.decode(value, { stream: true }))) {
        if (event === 'next' && data) sink.next(JSON.parse(data) as Payload);
        if (event === 'complete') return 'complete';
      }
    }
  };
  read().then(sink.end, sink.end);
  return () => abort.abort();
};

/** graphql-ws over a WebSocket, with no retries of its own: the client resumes itself. */
const overWebSocket: Transport = (base, variables, sink) => {
  const client = createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  client.subscribe<Payload['data']>(
    { query: subscription, variables },
    { next: (payload) => sink.next(payload as Payload), error: sink.end, complete: () => sink.end('complete') },
  );
  return () => void client.dispose();
};

/**
 * A client that keeps what it received across connections and resumes after its last position;
 * it starts after `from`, an event it was told of.
 */
const subscriber = (name: string, transport: Transport, aggregateType: string | null, from: Received) => {
  const received: Received[] = [];
  const errors: unknown[] = [];
  let connection = 0;
  let connected = false;
  let close: () => void = () => undefined;
  return {
    name,
    aggregateType,
    from,
    received,
    errors,
    get connected() {
      return connected;
    },
    resume(base: string) {
      const current = ++connection;
      connected = true;
      const after = (received.at(-1) ?? from).position;
      close = transport(base, { after, t: aggregateType }, {
        next: (payload) => (payload.errors ? errors.push(payload.errors) : received.push(payload.data!.events)),
        end: () => {
          if (current === connection) connected = false;
        },
      });
    },
    close: () => close(),
  };
};

type Subscriber = ReturnType<typeof subscriber>;

/** One to three events of a new aggregate in one transaction, held open a little so commits overtake each other. */
const appendOne = (aggregateType: string) =>
  store.transaction(async (session) => {
    const count = 1 + Math.floor(Math.random() * 3);
    const result = await session.appendToStream(
      { aggregateId: newId('kil'), aggregateType },
      Array.from({ length: count }, (_, n) => ({ type: 'Numbered', data: { n } })),
      { expectedVersion: 0, metadata: { correlationId: 'cor', causationId: 'cmd' }, occurredAt: new Date() },
    );
    await session.tx.execute(sql`select pg_sleep(${Math.random() * 0.004})`);
    return result.events.map((event) => event.id);
  });

/**
 * Appends events of `aggregateType` from this process until stopped, in `concurrency` loops.
 */
const appendContinuously = (aggregateType: string, concurrency: number) => {
  let writing = true;
  const acknowledged: string[] = [];
  const failures: unknown[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (writing) {
      try {
        acknowledged.push(...(await appendOne(aggregateType)));
      } catch (error) {
        failures.push(error);
        return;
      }
    }
  });
  return {
    acknowledged,
    failures,
    stop: async () => {
      writing = false;
      await Promise.all(loops);
    },
  };
};

/** A query or mutation over HTTP. */
const post = async (base: string, query: string, variables: Record<string, unknown>) => {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse;
};

/** The oldest event of `aggregateType` as the `events` query pages it: where a client starts. */
const firstEvent = (base: string, aggregateType: string) =>
  waitFor(async () => {
    const result = await post(base, `query ($t: String) { events(aggregateType: $t, first: 1) { edges { node { id position } } } }`, {
      t: aggregateType,
    });
    return result.data?.events.edges[0]?.node as Received | undefined;
  }, 'the first event in the events query');

const createTransaction = `mutation ($input: CreateTransactionInput!) {
  createTransaction(input: $input) { __typename ... on CreateTransactionSuccess { transaction { id } } }
}`;

/** Creates transactions through the server's own command path until stopped or the server dies. */
const mutateContinuously = (base: string) => {
  let writing = true;
  const acknowledged: string[] = [];
  const refused: unknown[] = [];
  let died: unknown;
  const create = (id: string) => post(base, createTransaction, { input: { id, currency: 'EUR', amount: '1.50' } });
  const loop = (async () => {
    while (writing) {
      const id = newId('tx');
      const result = await create(id).catch((error: unknown) => void (died = error));
      if (!result) return;
      if (result.data?.createTransaction?.__typename === 'CreateTransactionSuccess') acknowledged.push(id);
      else refused.push(result);
    }
  })();
  return {
    acknowledged,
    refused,
    get died() {
      return died !== undefined;
    },
    stop: async () => {
      writing = false;
      await loop;
    },
  };
};

/** Everything in the log that matches `filter`, read from the table in pages. */
const readWholeLog = async (filter: LogFilter) => {
  const log: { id: string; aggregateId: string }[] = [];
  for (let after = logStart; ; ) {
    const page = await store.readLog({ ...filter, after, limit: 1_000 });
    log.push(...page);
    if (page.length < 1_000) return log;
    after = page.at(-1)!.logPosition;
  }
};

/** What `client` must receive: every event of its filter after the one it started from. */
const logOf = async (client: Subscriber) => {
  const log = (await readWholeLog(client.aggregateType ? { aggregateType: client.aggregateType } : {})).map((e) => e.id);
  const start = log.indexOf(client.from.id);
  expect(start, `${client.name} starts from an event in its log`).toBeGreaterThanOrEqual(0);
  return log.slice(start + 1);
};

/** Waits until the client has as many events as the log, then compares them event by event. */
const expectWholeLog = async (client: Subscriber) => {
  const log = await logOf(client);
  // On a timeout the comparison below shows what is missing or doubled.
  await waitFor(() => client.received.length >= log.length, `${client.name} to catch up`, 20_000).catch(() => undefined);
  const ids = client.received.map((event) => event.id);
  expect(client.errors, client.name).toEqual([]);
  expect(new Set(ids).size, `${client.name}: no duplicates`).toBe(ids.length);
  expect(ids, `${client.name}: the log, in order`).toEqual(log);
};

/** A server process, stopped when the test finishes; its log is printed when the test fails. */
const useServer = async () => {
  const server = await startServer();
  onTestFinished(() => stopServer(server.child));
  onTestFailed(() => console.error(`server on ${server.base}:\n${server.output.join('\n')}`));
  return server;
};

const useWriters = (aggregateType: string, base: string) => {
  const appends = appendContinuously(aggregateType, 3);
  const mutations = mutateContinuously(base);
  onTestFinished(async () => {
    await Promise.all([appends.stop(), mutations.stop()]);
  });
  return { appends, mutations };
};

describe('the server killed with SIGKILL and restarted while clients resume with their cursors', () => {
  it('delivers every committed event exactly once, in order', { timeout: 60_000 }, async () => {
    const aggregateType = `Killed_${newId('t').slice(2, 12)}`;
    const first = await useServer();
    // One event before anyone listens: its position is the clients' first cursor.
    const genesis = await appendOne(aggregateType);
    const from = await firstEvent(first.base, aggregateType);
    const clients = [
      subscriber('SSE client of one aggregate type', overSse, aggregateType, from),
      subscriber('SSE client of the whole log', overSse, null, from),
      subscriber('graphql-ws client of one aggregate type', overWebSocket, aggregateType, from),
    ];
    onTestFinished(() => clients.forEach((client) => client.close()));
    const receivedSince = (counts: readonly number[], more: number) =>
      clients.every((client, n) => client.received.length >= counts[n]! + more);
    onTestFailed(() =>
      console.error(
        clients.map((client) => `${client.name}: ${client.received.length} events, errors ${JSON.stringify(client.errors)}`),
      ),
    );

    // Live: both writers' events reach every client.
    for (const client of clients) client.resume(first.base);
    const { appends, mutations: beforeKill } = useWriters(aggregateType, first.base);
    await waitFor(
      () => receivedSince([0, 0, 0], 30) && beforeKill.acknowledged.length >= 10,
      'every client to receive events from both writers',
      20_000,
    );

    // Killed mid-stream; the writer beside it goes on.
    await killServer(first);
    await waitFor(() => clients.every((client) => !client.connected), 'every client to lose its connection');
    await waitFor(() => beforeKill.died, 'the mutations through the killed server to fail');
    const appendedAtKill = appends.acknowledged.length;
    await waitFor(() => appends.acknowledged.length >= appendedAtKill + 30, 'writes while the server is dead');

    // Restarted on another port: each client resumes after its last position, catches up on what it
    // missed and goes on live while both writers keep writing.
    const second = await useServer();
    const backlog = await Promise.all(clients.map(async (client) => (await logOf(client)).length));
    for (const client of clients) client.resume(second.base);
    const afterRestart = mutateContinuously(second.base);
    onTestFinished(() => afterRestart.stop());
    await waitFor(
      () => receivedSince(backlog, 30) && afterRestart.acknowledged.length >= 10,
      'every client to catch up and receive live events after the restart',
      20_000,
    );

    await appends.stop();
    await afterRestart.stop();
    expect(appends.failures).toEqual([]);
    expect(afterRestart.died).toBe(false);
    expect([...beforeKill.refused, ...afterRestart.refused]).toEqual([]);
    for (const client of clients) await expectWholeLog(client);

    // The log holds what the writers were told was committed, and nothing rolled back.
    const appended = await readWholeLog({ aggregateType });
    expect(new Set(appended.map((event) => event.id))).toEqual(new Set([...genesis, ...appends.acknowledged]));
    const created = new Set((await readWholeLog({ aggregateType: 'Transaction' })).map((event) => event.aggregateId));
    for (const id of [...beforeKill.acknowledged, ...afterRestart.acknowledged]) expect(created.has(id), id).toBe(true);
  });

  it('rejects a malformed cursor, or one naming no event of this log, with VALIDATION_FAILED', async () => {
    const server = await useServer();
    const cursors = ['not-a-cursor', encodeCursor({ transactionId: 1n, position: 1n })];
    for (const [after, transport] of cursors.flatMap((cursor) => [overSse, overWebSocket].map((t) => [cursor, t] as const))) {
      const payloads: Payload[] = [];
      let ended: unknown;
      const close = transport(server.base, { after }, {
        next: (payload) => void payloads.push(payload),
        end: (reason) => void (ended = reason),
      });
      onTestFinished(close);
      await waitFor(() => ended === 'complete', 'the subscription to complete');
      expect(payloads).toHaveLength(1);
      expect(payloads[0]!.data ?? null).toBeNull();
      expect(payloads[0]!.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
    }
  });
});
