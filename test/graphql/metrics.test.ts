import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import { graphqlPath } from '../../src/server.js';
import { databaseUrl, useHttpServer } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

type LogCall = { message: string; fields: Record<string, unknown> };
const warnings: LogCall[] = [];
const recordingLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields = {}) => warnings.push({ message, fields }),
  error: () => undefined,
};

const app = await startApp({
  databaseUrl: databaseUrl(),
  logger: recordingLogger,
  relayPollMs: 250,
  processManagers: [],
  fenceWarnMs: 200,
});
afterAll(() => app.close());

const sql = postgres(databaseUrl(), { max: 1, onnotice: () => undefined });
afterAll(() => sql.end());

const { base } = await useHttpServer(app);

const scrape = async (): Promise<string> => {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};

/** The value of a sample line `name{labels} value`, or of `name value` when no labels are given. */
const sample = (text: string, name: string, labels = ''): number | undefined => {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
};

const metric = async (name: string, labels = ''): Promise<number> => {
  const value = sample(await scrape(), name, labels);
  if (value === undefined) throw new Error(`no sample for ${name}{${labels}}`);
  return value;
};

/** Opens an account over HTTP; resolves with its id. */
const openAccount = async (): Promise<string> => {
  const response = await fetch(`${base}${graphqlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      query: `mutation ($input: OpenAccountInput!) {
        openAccount(input: $input) { __typename ... on OpenAccountSuccess { account { id } } }
      }`,
      variables: { input: { owner: 'metrics', currency: 'EUR', initialBalance: '1.00' } },
    }),
  });
  const body = (await response.json()) as { data: { openAccount: { __typename: string; account: { id: string } } } };
  expect(body.data.openAccount.__typename).toBe('OpenAccountSuccess');
  return body.data.openAccount.account.id;
};

/** A write transaction (it takes an xid), marked in its query text, kept open until `release` is called. */
const holdFence = async () => {
  const marker = `cairn-metrics-fence-${Math.random().toString(36).slice(2, 10)}`;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let opened!: (pid: number) => void;
  const pid = new Promise<number>((resolve) => (opened = resolve));
  const done = sql.begin(async (tx) => {
    const [row] = await tx.unsafe<{ pid: number }[]>(
      `select pg_backend_pid() as pid, pg_current_xact_id() as xid /* ${marker} */`,
    );
    opened(row!.pid);
    await gate;
  });
  return { pid: await pid, marker, release: async () => (release(), await done) };
};

describe('GET /metrics', () => {
  it('answers 200 in the Prometheus text format with every metric', async () => {
    await fetch(`${base}/health`);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const name of [
      'cairn_relay_lag_events',
      'cairn_fence_lag_seconds',
      'cairn_fence_held_events',
      'cairn_relay_connected',
      'cairn_relay_listeners',
      'cairn_relay_delivered_events_total',
      'cairn_relay_reads_total',
      'cairn_http_requests_total',
      'cairn_http_request_duration_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'cairn_relay_connected')).toBe(1);
    expect(sample(text, 'cairn_http_requests_total', 'path="/health",status="200"')).toBeGreaterThanOrEqual(1);
  });

  it('labels unknown paths as other', async () => {
    expect((await fetch(`${base}/nope?x=1`)).status).toBe(404);
    expect(await metric('cairn_http_requests_total', 'path="other",status="404"')).toBeGreaterThanOrEqual(1);
  });

  it('counts the events the relay delivers after a command', async () => {
    const before = await metric('cairn_relay_delivered_events_total');
    await openAccount();
    // Delivery waits for the commit-safe fence, which other test files may hold for a moment.
    await waitFor(
      async () => (await metric('cairn_relay_delivered_events_total')) > before,
      'the relay to deliver the new event',
    );
    expect(await metric('cairn_http_requests_total', 'path="/graphql",status="200"')).toBeGreaterThanOrEqual(1);
  });

  it('while an unrelated transaction holds the fence: delays events (never loses or reorders them) and shows it', async () => {
    const { relay } = app.services;
    const delivered: string[] = [];
    const unsubscribe = relay.subscribe(
      (batch) => delivered.push(...batch.filter((event) => event.type === 'AccountOpened').map((event) => event.aggregateId)),
      () => undefined,
    );
    const holder = await holdFence();
    const opened: string[] = [];
    try {
      // The oldest holder is at least as old as ours, so this becomes true while ours is open.
      await waitFor(async () => (await metric('cairn_fence_lag_seconds')) >= 1, 'fence lag of at least 1 s');
      // Committed after our xid: behind the fence until we finish.
      for (let i = 0; i < 3; i++) opened.push(await openAccount());
      const text = await scrape();
      expect(sample(text, 'cairn_fence_held_events')).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'cairn_relay_lag_events')).toBeGreaterThanOrEqual(3);
      await relay.settle(); // everything commit-safe is out; ours are not commit-safe yet
      expect(delivered.filter((id) => opened.includes(id))).toEqual([]);
    } finally {
      await holder.release();
    }
    await waitFor(() => opened.every((id) => delivered.includes(id)), 'the held events once the fence lifts');
    await relay.settle();
    unsubscribe();
    expect(delivered.filter((id) => opened.includes(id))).toEqual(opened); // each once, in commit order
    await waitFor(async () => (await metric('cairn_fence_lag_seconds')) < 0.5, 'fence lag back to about 0');
  });

  it('logs a warning naming the transaction that holds the fence too long', async () => {
    const holder = await holdFence();
    try {
      const warning = await waitFor(
        () => warnings.find((call) => call.fields.pid === holder.pid && String(call.fields.query).includes(holder.marker)),
        'a fence warning for our transaction',
      );
      expect(warning.message).toMatch(/fence/);
      expect(warning.fields.ageMs).toBeGreaterThanOrEqual(200); // logged rounded to the millisecond
    } finally {
      await holder.release();
    }
  });
});
