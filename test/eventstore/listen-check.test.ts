import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { startApp } from '../../src/app.js';
import { createListenCheck } from '../../src/eventstore/listen-check.js';
import { eventsChannel } from '../../src/eventstore/notifier.js';
import type { Logger } from '../../src/logger.js';
import { databaseUrl, testLogger, useApp, useHttpServer } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A LISTEN connection that hears nothing must show. Here it listens in another database of the
 * same server, which is what a transaction pooler amounts to: LISTEN is accepted, and the
 * doorbells rung in cairn's database never arrive.
 */
const elsewhere = (() => {
  const url = new URL(databaseUrl());
  url.pathname = '/postgres';
  return url.toString();
})();

const warnings: string[] = [];
const logger: Logger = { ...testLogger, warn: (message) => void warnings.push(message) };

const healthy = await useApp({ processManagers: [] });
const deaf = await startApp({ databaseUrl: databaseUrl(), listenUrl: elsewhere, listenCheckMs: 100, logger, relayPollMs: 1_000, processManagers: [] });
afterAll(() => deaf.close());
const { base } = await useHttpServer(deaf);

const metric = async (name: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(text.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ')[1]);
};

describe('the relay’s LISTEN check', () => {
  it('counts a probe heard before its NOTIFY returned as heard (a fast LISTEN connection)', async () => {
    let sent = 0;
    const check: ReturnType<typeof createListenCheck> = createListenCheck({
      id: 'relay_fast',
      intervalMs: 20,
      logger,
      send: async (payload) => {
        sent += 1;
        check.heard(payload); // heard back before the send resolves
      },
    });
    await check.start();
    await waitFor(() => sent >= 6, 'several probes');
    check.stop();
    expect(check.missed).toBe(0);
    expect(check.healthy).toBe(true);
  });

  it('tells whether another instance may listen: yes at first, no after quiet intervals, yes on another’s probe or while deaf', async () => {
    const check: ReturnType<typeof createListenCheck> = createListenCheck({
      id: 'relay_alone',
      intervalMs: 30,
      logger: testLogger,
      send: async (payload) => void check.heard(payload),
    });
    await check.start();
    expect(check.othersMayListen).toBe(true); // too soon to know
    await waitFor(() => !check.othersMayListen, 'the check to find no other instance');
    expect(check.heard('relay_other:probe:7')).toBe(true);
    expect(check.othersMayListen).toBe(true);
    await waitFor(() => !check.othersMayListen, 'the other instance to be forgotten once its probes stop');
    check.stop();

    // A LISTEN connection that hears nothing cannot tell: it assumes others listen.
    const deafCheck = createListenCheck({ id: 'relay_deaf', intervalMs: 30, logger: testLogger, send: async () => undefined });
    await deafCheck.start();
    await waitFor(() => !deafCheck.healthy, 'the deaf check to notice');
    expect(deafCheck.othersMayListen).toBe(true);
    deafCheck.stop();
  });

  it('hears its probes back on a direct connection', async () => {
    expect(healthy.services.relay.listenHealthy).toBe(true);
    expect(healthy.services.relay.ready).toBe(true);
    expect(healthy.services.relay.missedListenProbes).toBe(0);
  });

  it('turns /ready false, warns and shows a metric while the LISTEN connection hears nothing, and recovers', async () => {
    expect(deaf.services.relay.listenHealthy).toBe(false);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, database: true, listen: false });
    expect(await metric('cairn_relay_listen_healthy')).toBe(0);
    await waitFor(async () => (await metric('cairn_relay_listen_missed_probes_total')) >= 2, 'probes to keep going unheard');
    expect(warnings.filter((message) => message.includes('hears nothing'))).toHaveLength(1);

    // A probe heard again (rung where it listens) makes it healthy.
    const there = postgres(elsewhere, { max: 1, onnotice: () => undefined });
    try {
      await there.notify(eventsChannel, `${deaf.services.relay.doorbellPayload}:probe:${Number.MAX_SAFE_INTEGER}`);
    } finally {
      await there.end();
    }
    // (Checked as it happens: its next probe goes unheard again one interval later.)
    await waitFor(() => deaf.services.relay.listenHealthy && deaf.services.relay.ready, 'the relay to hear again, and be ready');
  });
});
