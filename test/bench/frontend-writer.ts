/**
 * The writer of test/bench/frontend.ts, forked as a process of its own (another instance taking
 * commands): it opens the accounts, then credits random ones on an open-loop schedule through
 * `accountAggregate.handle` on the kernel store, ringing the doorbell with the coalesced NOTIFY
 * after each commit as a cairn instance does. Each commit goes to the bench as
 * `account:version` with its time in this process's clock.
 */
import { connect } from '../../src/db/client.js';
import { newId } from '../../src/eventstore/ids.js';
import { createNotifier } from '../../src/eventstore/notifier.js';
import { PostgresEventStore } from '../../src/eventstore/postgres-store.js';
import { createLogger } from '../../src/logger.js';
import { accountAggregate } from '../../src/modules/accounts/aggregate.js';
import { runOpenLoop } from './open-loop.js';

export type ToFrontendWriter =
  | { readonly type: 'ping' }
  /** Opens these accounts (EUR, balance 1,000.00), `perTransaction` commands to a transaction. */
  | { readonly type: 'open-accounts'; readonly ids: readonly string[]; readonly perTransaction: number }
  /** `rate` credits per second on random accounts of `ids`, for `durationMs`. */
  | { readonly type: 'write'; readonly rate: number; readonly durationMs: number; readonly ids: readonly string[] };

export type CreditsWritten = {
  readonly commands: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly rate: number;
  readonly maxLateMs: number;
  readonly skipped: number;
  readonly commitP50: number;
  readonly commitP99: number;
  readonly cpuMs: number;
};

export type FromFrontendWriter =
  | { readonly type: 'pong'; readonly at: number }
  | { readonly type: 'opened'; readonly accounts: number; readonly ms: number }
  | { readonly type: 'commits'; readonly commits: readonly (readonly [key: string, at: number])[] }
  | { readonly type: 'written'; readonly result: CreditsWritten }
  | { readonly type: 'failed'; readonly error: string };

const maxInFlight = 64;
const now = () => performance.timeOrigin + performance.now();
const context = (commandName: string) => ({ commandName, commandId: newId('cmd'), now: new Date() });

const openAccounts = async (store: PostgresEventStore, ids: readonly string[], perTransaction: number) => {
  const started = performance.now();
  for (let from = 0; from < ids.length; from += perTransaction) {
    await store.transaction(async (session) => {
      for (const id of ids.slice(from, from + perTransaction)) {
        await accountAggregate.handleIn(session, id, { type: 'OpenAccount', owner: 'bench', currency: 'EUR', initialBalance: '1000.00' }, context('openAccount'), {
          newStream: true,
        });
      }
    });
  }
  return performance.now() - started;
};

const credits = async (store: PostgresEventStore, order: Extract<ToFrontendWriter, { type: 'write' }>, onCommit: (key: string, at: number) => void): Promise<CreditsWritten> => {
  const loop = await runOpenLoop({
    intervalMs: 1_000 / order.rate,
    durationMs: order.durationMs,
    maxInFlight,
    write: async () => {
      const id = order.ids[Math.floor(Math.random() * order.ids.length)]!;
      const result = await accountAggregate.handle(store, id, { type: 'CreditAccount', amount: '1.00' }, context('creditAccount'));
      return `${id}:${result.version}`;
    },
    onCommit,
  });
  const { acknowledged, elapsedMs, ...rest } = loop;
  return { ...rest, commands: acknowledged, rate: acknowledged / (elapsedMs / 1_000) };
};

const serve = (databaseUrl: string, send: (message: FromFrontendWriter) => void) => {
  const logger = createLogger('warn', { component: 'bench-frontend-writer' });
  const connection = connect(databaseUrl, { max: maxInFlight + 2, applicationName: 'cairn-bench-frontend-writer' });
  const notifier = createNotifier(connection.sql, logger);
  const store = new PostgresEventStore(connection.db, () => notifier.ring());
  const handle = async (message: ToFrontendWriter): Promise<void> => {
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong', at: now() });
      case 'open-accounts':
        return send({ type: 'opened', accounts: message.ids.length, ms: await openAccounts(store, message.ids, message.perTransaction) });
      case 'write': {
        let outgoing: [string, number][] = [];
        const flush = () => {
          if (outgoing.length > 0) send({ type: 'commits', commits: outgoing });
          outgoing = [];
        };
        const flusher = setInterval(flush, 5);
        try {
          const result = await credits(store, message, (key, at) => outgoing.push([key, at]));
          flush();
          return send({ type: 'written', result });
        } finally {
          clearInterval(flusher);
        }
      }
      default:
        return message satisfies never;
    }
  };
  process.on('message', (message: ToFrontendWriter) => {
    handle(message).catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => void connection.close().finally(() => process.exit(0)));
};

const databaseUrl = process.env.CAIRN_FRONTEND_WRITER_URL;
if (process.send && databaseUrl) {
  const send = process.send.bind(process);
  serve(databaseUrl, (message) => void send(message));
}
