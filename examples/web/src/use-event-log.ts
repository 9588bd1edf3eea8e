import { useEffect, useState } from 'react';
import type { Client } from 'graphql-ws';
import { followEvents, type LogEvent } from './follow-events';

/** How many of the newest events the page keeps. */
const kept = 200;

export type EventLog = {
  /** The newest events, newest first. */
  readonly events: readonly LogEvent[];
  /** How many events arrived since the page opened. */
  readonly received: number;
  readonly error: string | undefined;
};

/**
 * The whole log from its first event, then live. Reconnects resume from the last position
 * received (see followEvents), so the list has no gap and no duplicate across server restarts.
 * A real app would keep that position (say in localStorage) and resume from it on reload too.
 */
export const useEventLog = (ws: Client): EventLog => {
  const [log, setLog] = useState<EventLog>({ events: [], received: 0, error: undefined });
  useEffect(() => {
    setLog({ events: [], received: 0, error: undefined });
    return followEvents(
      ws,
      undefined,
      (event) => setLog((log) => ({ events: [event, ...log.events].slice(0, kept), received: log.received + 1, error: undefined })),
      (error) => setLog((log) => ({ ...log, error: describe(error) })),
    );
  }, [ws]);
  return log;
};

const describe = (error: unknown): string =>
  Array.isArray(error) ? error.map((e: { message?: string }) => e.message).join('; ') : error instanceof Error ? error.message : 'connection lost';
