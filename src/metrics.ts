import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { eventsAfter, eventsBehindFence, lagCountCap, oldestFenceHolder } from './eventstore/lag.js';
import { processManagerHealth, type ManagerHealth } from './eventstore/process-manager-health.js';
import type { Services } from './app.js';
import type { SharedResults } from './graphql/shared-results.js';
import type { Logger } from './logger.js';

export const metricsPath = '/metrics';

/** The paths request metrics are labelled with; anything else is `other`, so labels stay bounded. */
const knownPaths = new Set(['/graphql', '/health', '/health/process-managers', '/ready', metricsPath]);
export const metricPath = (path: string): string => (knownPaths.has(path) ? path : 'other');

export type Metrics = {
  readonly registry: Registry;
  /** Records one answered HTTP request. */
  observeRequest(path: string, status: number, seconds: number): void;
};

/**
 * A registry of its own per server, so several servers in one process never collide. Database
 * gauges are read on scrape, one cheap query each; the relay's figures are read from the relay.
 */
export const createMetrics = (
  services: Pick<Services, 'db' | 'relay' | 'store' | 'processManagers' | 'doorbell'>,
  shared: Pick<SharedResults, 'compilations' | 'deliveries' | 'executions' | 'pages' | 'serialisations'>,
): Metrics => {
  const { db, relay, store, processManagers, doorbell } = services;
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'cairn_relay_lag_events',
    help: `Committed events not yet delivered by this instance's relay: outbox rows after its cursor, including those waiting behind the fence; counted up to ${lagCountCap}.`,
    registers,
    async collect() {
      this.set(await eventsAfter(db, relay.cursor));
    },
  });
  new Gauge({
    name: 'cairn_fence_lag_seconds',
    help: 'How long the oldest running transaction holding an xid (and so the commit-safe fence) has been open, anywhere in the cluster; 0 when none.',
    registers,
    async collect() {
      const holder = await oldestFenceHolder(db);
      this.set(holder ? holder.ageMs / 1000 : 0);
    },
  });
  new Gauge({
    name: 'cairn_fence_held_events',
    help: `Committed events that readers cannot see yet because an older transaction is still open; counted up to ${lagCountCap}.`,
    registers,
    async collect() {
      this.set(await eventsBehindFence(db));
    },
  });
  new Gauge({
    name: 'cairn_relay_connected',
    help: "1 while the relay's LISTEN connection and its database reads are healthy, 0 otherwise.",
    registers,
    collect() {
      this.set(relay.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cairn_relay_listen_healthy',
    help: "1 while the relay's LISTEN connection hears the probes rung through the write path, 0 when it hears nothing (a transaction pooler in between: set CAIRN_LISTEN_URL).",
    registers,
    collect() {
      this.set(relay.listenHealthy ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cairn_relay_listeners',
    help: 'Subscribers (subscriptions and process managers) listening to the relay now.',
    registers,
    collect() {
      this.set(relay.listenerCount);
    },
  });
  new Gauge({
    name: 'cairn_subscriber_buffered_events',
    help: 'Live events held in subscribers\' buffers, not yet sent to their clients; each subscriber holds at most its buffer limit.',
    registers,
    collect() {
      this.set(relay.bufferedEvents);
    },
  });
  // The process managers' figures come from one health read per scrape, shared by their gauges.
  let health: { readonly at: number; readonly managers: Promise<ManagerHealth[]> } | null = null;
  const managers = () => {
    if (!health || performance.now() - health.at > 1_000) health = { at: performance.now(), managers: processManagerHealth(db, processManagers) };
    return health.managers;
  };
  const perManager = (name: string, help: string, read: (manager: ManagerHealth) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['manager'] as const,
      registers,
      async collect() {
        for (const manager of await managers()) this.set({ manager: manager.name }, read(manager));
      },
    });
  perManager(
    'cairn_process_manager_lag_events',
    `Committed triggers after a process manager's checkpoint, not handled yet; counted up to ${lagCountCap}.`,
    (manager) => manager.lagEvents,
  );
  perManager(
    'cairn_process_manager_parked_triggers',
    'Triggers a process manager parked after its retries (and later triggers of their processes waiting behind them); retry them with `npm run process-managers -- retry`.',
    (manager) => manager.parkedTriggers,
  );
  perManager(
    'cairn_process_manager_failing_attempts',
    'Failed attempts at the trigger a process manager is retrying now (0 when none fails).',
    (manager) => manager.failing?.attempts ?? 0,
  );
  /** A per-manager counter that mirrors a running total the runner keeps, read on scrape. */
  const perManagerTotal = (name: string, help: string, read: (manager: ManagerHealth) => number) => {
    const counted = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: ['manager'] as const,
      registers,
      async collect() {
        for (const manager of await managers()) {
          const now = read(manager);
          this.inc({ manager: manager.name }, now - (counted.get(manager.name) ?? 0));
          counted.set(manager.name, now);
        }
      },
    });
  };
  perManagerTotal(
    'cairn_process_manager_failures_total',
    'Failed process-manager steps in this process (transient ones included).',
    (manager) => manager.failures,
  );
  perManagerTotal(
    'cairn_process_manager_handled_total',
    'Triggers a process manager handled in this process.',
    (manager) => manager.handled,
  );

  /** A counter that mirrors a running total kept elsewhere, read on scrape. */
  const total = (name: string, help: string, read: () => number) => {
    let counted = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read();
        this.inc(now - counted);
        counted = now;
      },
    });
  };
  total(
    'cairn_relay_delivered_events_total',
    'Events the relay has handed to its listeners since the process started.',
    () => relay.deliveredEvents,
  );
  total(
    'cairn_stream_order_retries_total',
    "Units of work run again because a stream they appended to had a newer last writer (kept out of the log's order); commands lock their stream first, so this stays near 0.",
    () => store.streamOrderRetries + processManagers.streamOrderRetries,
  );
  total(
    'cairn_relay_listen_missed_probes_total',
    "Probes the relay's LISTEN connection did not hear back within CAIRN_LISTEN_CHECK_MS.",
    () => relay.missedListenProbes,
  );
  total(
    'cairn_relay_reads_total',
    'Reads of the log by the relay (each reads up to one batch after its cursor); commits that arrive during a read share the next one.',
    () => relay.reads,
  );
  total(
    'cairn_doorbell_notifies_total',
    "NOTIFYs this instance sent after its commits, for the other instances' relays (coalesced: a burst of commits shares one or two).",
    () => doorbell.sent,
  );
  total(
    'cairn_doorbell_skipped_total',
    "Commits that sent no NOTIFY because no other instance's relay was listening (none of their LISTEN-check probes heard for three intervals).",
    () => doorbell.skipped,
  );
  total(
    'cairn_subscriber_overflows_total',
    'Times a subscriber fell more than its buffer behind the live stream and went back to reading the table.',
    () => relay.overflows,
  );
  total(
    'cairn_subscription_operations_compiled_total',
    'Subscription operations compiled to a function (graphql-jit) for their per-event execution: once per parsed document and operation name.',
    () => shared.compilations,
  );
  total(
    'cairn_subscription_pages_total',
    'Pages of subscription results handed to SSE streams as one step (a page read from the table, a live batch), instead of one step per result.',
    () => shared.pages,
  );
  total(
    'cairn_subscription_results_delivered_total',
    'Subscription results handed to subscribers.',
    () => shared.deliveries,
  );
  total(
    'cairn_subscription_results_executed_total',
    'Subscription results executed: once per event and distinct operation, however many subscribers share it.',
    () => shared.executions,
  );
  total(
    'cairn_subscription_results_serialised_total',
    'Subscription results turned into JSON: once per shared result, however many subscribers receive it.',
    () => shared.serialisations,
  );

  const requests = new Counter({
    name: 'cairn_http_requests_total',
    help: 'HTTP requests answered, by path and status.',
    labelNames: ['path', 'status'] as const,
    registers,
  });
  const durations = new Histogram({
    name: 'cairn_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by path (for SSE: until the stream ends).',
    labelNames: ['path'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  return {
    registry,
    observeRequest(path, status, seconds) {
      const label = metricPath(path);
      requests.inc({ path: label, status: String(status) });
      durations.observe({ path: label }, seconds);
    },
  };
};

/** Answers a scrape; a failed database gauge fails the scrape (500) rather than reporting zeros. */
export const serveMetrics = async (metrics: Metrics, res: ServerResponse, logger: Logger): Promise<void> => {
  try {
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
  } catch (error) {
    logger.warn('metrics scrape failed', { error });
    res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
  }
};
