import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { compareLogPositions, logStart } from '../../src/eventstore/cursor.js';
import { newId } from '../../src/eventstore/ids.js';
import { subscribeToLog } from '../../src/eventstore/log-subscription.js';
import type { LogPosition, RecordedEvent } from '../../src/eventstore/types.js';
import { testLogger } from '../helpers/app.js';
import { waitFor, within } from '../helpers/wait.js';

/**
 * A free port below the kernel's ephemeral range (Linux 32768+, macOS 49152+): no outgoing
 * connection can be handed it while the server is down, so the restart finds it free.
 */
const portOutsideEphemeralRange = async (): Promise<number> => {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
};

// This file stops and starts its database server, so it runs one of its own, on a fixed port
// so that the app's connection strings stay valid across the restart.
const root = mkdtempSync(path.join(tmpdir(), 'cairn-restart-'));
chmodSync(root, 0o755); // the postgres user must reach its data directory
const dataDir = path.join(root, 'pg');
const port = await portOutsideEphemeralRange();
let server: EmbeddedDatabase | undefined;
let app: App | undefined;
afterAll(async () => {
  await app?.close();
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});
server = await startEmbeddedPostgres({ dataDir, logger: testLogger, port });
const url = server.url;
await runMigrations(url);
app = await startApp({ databaseUrl: url, logger: testLogger, relayPollMs: 250 });
const { db, store, relay } = app.services;

const aggregateType = `Restart_${newId('t').slice(2, 12)}`;
const writers = 8;

const appendOne = (writer: number, n: number) =>
  store.transaction((session) =>
    session.appendToStream({ aggregateId: newId('rst'), aggregateType }, [{ type: 'Written', data: { writer, n } }], {
      expectedVersion: 0,
      metadata: { correlationId: 'cor_restart', causationId: 'cmd_restart' },
      occurredAt: new Date(),
    }),
  );

/** Consumes a log subscription into an array; a subscription that throws keeps its error for the test to see. */
const collect = (after: LogPosition) => {
  const events = subscribeToLog(relay, store, { after, aggregateType });
  const received: RecordedEvent[] = [];
  const state: { error?: unknown } = {};
  const done = (async () => {
    for await (const event of events) received.push(event);
  })().catch((error: unknown) => {
    state.error = error;
  });
  return {
    after,
    received,
    state,
    close: async () => {
      await events.return(undefined);
      await done;
    },
  };
};

/** The whole log of this file's aggregate type, as `events` queries read it, in commit-safe order. */
const readWholeLog = async (): Promise<RecordedEvent[]> => {
  const log: RecordedEvent[] = [];
  let after: LogPosition = logStart;
  for (;;) {
    const page = await store.readLog({ aggregateType, after, limit: 1_000 });
    log.push(...page);
    if (page.length < 1_000) return log;
    after = page.at(-1)!.logPosition;
  }
};

/** Rows in the table, fenced or not. */
const committedRows = async (): Promise<number> => {
  const [row] = await db.execute<{ count: number }>(
    sql`select count(*)::int as count from es.events where aggregate_type = ${aggregateType}`,
  );
  return row!.count;
};

type Phase = 'before' | 'outage' | 'after';

describe('PostgreSQL restarted under load', () => {
  it('subscribers get every committed event exactly once, in order', { timeout: 60_000 }, async () => {
    const fromStart = collect(logStart);
    const subscribers = [fromStart];

    // Each append by `writer:n`, with its event id once it reported success. One that failed or
    // is still pending has an unknown outcome (its COMMIT may have reached the server before the
    // connection died): the table says whether it committed.
    const committed = new Map<string, string>();
    const unsettled = new Set<string>();
    const attempted = new Set<string>();
    const tally = { before: { ok: 0, failed: 0 }, outage: { ok: 0, failed: 0 }, after: { ok: 0, failed: 0 } };
    const okAfterRestart = Array.from({ length: writers }, () => 0);
    let phase: Phase = 'before';
    let writing = true;
    const write = async (writer: number) => {
      for (let n = 0; writing; n++) {
        const key = `${writer}:${n}`;
        const startedIn = phase;
        const append = appendOne(writer, n);
        attempted.add(key);
        unsettled.add(key);
        void append.then(
          ({ events }) => committed.set(key, events[0]!.id),
          () => undefined,
        );
        void append.finally(() => unsettled.delete(key)).catch(() => undefined);
        try {
          // Every append must settle (checked below); the timeout only lets a stuck one be named.
          await within(append, `append ${key}`, 10_000);
          tally[phase].ok++;
          if (startedIn === 'after') okAfterRestart[writer]!++;
        } catch {
          tally[phase].failed++;
          // A refused connection fails at once: back off so eight writers do not spin two cores.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const load = Promise.all(Array.from({ length: writers }, (_, writer) => write(writer)));
    try {
      await waitFor(() => tally.before.ok >= 100, 'load before the restart');
      // One from "now", taken under load.
      subscribers.push(collect(relay.cursor));
      await waitFor(() => tally.before.ok >= 200, 'more load before the restart');

      phase = 'outage';
      await server!.stop(); // SIGINT: a fast shutdown, open transactions roll back
      await waitFor(() => !relay.ready, 'the relay to notice the outage');
      await waitFor(() => tally.outage.failed >= writers, 'writes to fail against the stopped server');

      server = await startEmbeddedPostgres({ dataDir, logger: testLogger, port });
      expect(server.url).toBe(url);
      phase = 'after';
      await waitFor(() => relay.ready, 'the relay to be ready again', 20_000);
      // Promptly: the pool must not sit out a long reconnect backoff once the server is back.
      await waitFor(() => okAfterRestart.every((ok) => ok >= 20), 'every writer to commit again');
    } finally {
      writing = false;
      await load;
    }
    const pending = [...unsettled].join(', ');
    await waitFor(() => unsettled.size === 0, `every append to settle (pending when writers stopped: ${pending})`, 20_000);

    // The truth: everything committed, readable in commit-safe order once no transaction is open.
    const expected = await committedRows();
    const log = await waitFor(async () => {
      const read = await readWholeLog();
      return read.length === expected && read;
    }, 'the fence to pass every committed event');
    const ids = log.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < log.length; i++) {
      expect(compareLogPositions(log[i - 1]!.logPosition, log[i]!.logPosition)).toBeLessThan(0);
    }
    // Each append is in the log at most once; every one that reported success is there, as itself.
    const logged = new Map(log.map((event) => [`${event.data.writer}:${event.data.n}`, event.id]));
    expect(logged.size).toBe(log.length);
    for (const key of logged.keys()) expect(attempted.has(key), key).toBe(true);
    for (const [key, id] of committed) expect(logged.get(key), key).toBe(id);
    // A writer's successful appends, each committed before the next began, keep its order in the log.
    for (let writer = 0; writer < writers; writer++) {
      const ns = log
        .filter((event) => event.data.writer === writer && committed.has(`${writer}:${event.data.n}`))
        .map((event) => event.data.n as number);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }

    // The subscribers (from the start, from "now" under load, and one that catches up from the
    // table after the restart) missed nothing and repeated nothing.
    subscribers.push(collect(logStart));
    const counts: number[] = [];
    for (const [index, subscriber] of subscribers.entries()) {
      const wanted = log.filter((event) => compareLogPositions(event.logPosition, subscriber.after) > 0);
      counts.push(wanted.length);
      await waitFor(
        () => subscriber.received.length >= wanted.length || subscriber.state.error !== undefined,
        `subscriber ${index} to catch up with ${wanted.length} events`,
        15_000,
      );
      expect(subscriber.state.error).toBeUndefined();
      expect(subscriber.received.map((event) => event.id)).toEqual(wanted.map((event) => event.id));
    }
    expect(subscribers[1]!.received.length).toBeGreaterThan(0);
    expect(subscribers[1]!.received.length).toBeLessThan(log.length);

    // And live delivery works after the restart.
    const live = await appendOne(-1, 0);
    for (const [index, subscriber] of subscribers.entries()) {
      await waitFor(() => subscriber.received.length > counts[index]!, `subscriber ${index} to get a live event`);
      expect(subscriber.received.slice(counts[index]).map((event) => event.id)).toEqual([live.events[0]!.id]);
    }
    expect(relay.ready).toBe(true);
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  });
});
