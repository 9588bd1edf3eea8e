/**
 * One cairn server in a process of its own, for figures that measure the server's CPU alone
 * (test/bench/fanout.ts, frontend.ts): `startApp` + `createHttpServer` on 127.0.0.1, driven by
 * the bench over IPC. CPU is this process's `process.cpuUsage()` from `mark` to `cpu`: the HTTP
 * server, yoga, graphql-ws, the relay and its pool, nothing of the writer or the clients.
 *
 * Environment (set by the bench): CAIRN_BENCH_SERVER_URL (the database), CAIRN_BENCH_SERVER_POOL
 * (pool size, default 32), CAIRN_BENCH_SERVER_MANAGERS=1 to run every module's process managers
 * (default none). BENCH_CPU_PROF=<folder>: a CPU profile of each measured window (`mark` → `cpu`)
 * goes there as a .cpuprofile file.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { startApp, type App } from '../../src/app.js';
import { encodeCursor, logStart } from '../../src/eventstore/cursor.js';
import { createLogger } from '../../src/logger.js';
import { createHttpServer, type HttpServer } from '../../src/server.js';

export type ToServer =
  | { readonly type: 'ping' }
  | { readonly type: 'mark' }
  | { readonly type: 'cpu' }
  | { readonly type: 'listeners' }
  | { readonly type: 'newest' };

export type FromServer =
  | { readonly type: 'pong'; readonly at: number; readonly base: string }
  | { readonly type: 'marked' }
  /** CPU and wall time since `mark`, in ms. */
  | { readonly type: 'cpu'; readonly cpuMs: number; readonly wallMs: number }
  | { readonly type: 'listeners'; readonly count: number; readonly overflows: number }
  | { readonly type: 'newest'; readonly cursor: string }
  | { readonly type: 'failed'; readonly error: string };

const now = () => performance.timeOrigin + performance.now();

/**
 * The newest commit-safe event's cursor, read with aliases unlike the column names (an ORDER BY
 * names an output column first, and `transaction_id::text as transaction_id` would sort text).
 */
const newest = async (app: App): Promise<string> => {
  const [row] = await app.services.db.execute<{ tid: string; pos: string }>(sql`
    select transaction_id::text as tid, position::text as pos from es.outbox
     where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     order by transaction_id desc, position desc limit 1`);
  return encodeCursor(row ? { transactionId: BigInt(row.tid), position: BigInt(row.pos) } : logStart);
};

const start = async (databaseUrl: string): Promise<{ app: App; http: HttpServer; base: string }> => {
  const logger = createLogger('warn', { component: 'bench-server' });
  const app = await startApp({
    databaseUrl,
    logger,
    relayPollMs: 1_000,
    poolSize: Number(process.env.CAIRN_BENCH_SERVER_POOL ?? 32),
    ...(process.env.CAIRN_BENCH_SERVER_MANAGERS !== '1' && { processManagers: [] }),
  });
  const http = createHttpServer(app.services);
  await new Promise<void>((resolve, reject) => http.server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { app, http, base: `http://127.0.0.1:${(http.server.address() as AddressInfo).port}` };
};

/** The window's profile, when BENCH_CPU_PROF names a folder. */
const profiler = (folder: string | undefined) => {
  if (!folder) return { start: async () => undefined, stop: async () => undefined };
  const session = new Session();
  session.connect();
  let windows = 0;
  return {
    start: async () => {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path.join(folder, `cairn-server-${process.pid}-${++windows}.cpuprofile`), JSON.stringify(profile));
    },
  };
};

const serve = (databaseUrl: string, send: (message: FromServer) => void) => {
  const started = start(databaseUrl);
  const profile = profiler(process.env.BENCH_CPU_PROF);
  let cpu = process.cpuUsage();
  let markedAt = performance.now();
  const handle = async (message: ToServer): Promise<void> => {
    const { app, base } = await started;
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong', at: now(), base });
      case 'mark':
        await profile.start();
        cpu = process.cpuUsage();
        markedAt = performance.now();
        return send({ type: 'marked' });
      case 'cpu': {
        const used = process.cpuUsage(cpu);
        await profile.stop();
        return send({ type: 'cpu', cpuMs: (used.user + used.system) / 1_000, wallMs: performance.now() - markedAt });
      }
      case 'listeners':
        return send({ type: 'listeners', count: app.services.relay.listenerCount, overflows: app.services.relay.overflows });
      case 'newest':
        return send({ type: 'newest', cursor: await newest(app) });
      default:
        return message satisfies never;
    }
  };
  process.on('message', (message: ToServer) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  // The bench owns this process: when it lets go, the server closes and the process ends.
  process.on('disconnect', () => {
    void started
      .then(async ({ app, http }) => {
        await http.close();
        await app.close();
      })
      .finally(() => process.exit(0));
  });
};

const databaseUrl = process.env.CAIRN_BENCH_SERVER_URL;
if (process.send && databaseUrl) {
  const send = process.send.bind(process);
  serve(databaseUrl, (message) => void send(message));
}
