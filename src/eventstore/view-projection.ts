import { eq, type InferSelectModel } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { InlineProjection } from './command.js';
import type { PostgresSession } from './postgres-store.js';
import type { EventReader } from './store.js';
import type { Event, RecordedEvent } from './types.js';

/**
 * How one event changes an aggregate's read model: pure, so the inline projection and time
 * travel (`atVersion`) compute the very same rows. `undefined` means "no row".
 */
export type ViewEvolve<View, E extends Event = Event> = (view: View | undefined, event: RecordedEvent<E>) => View | undefined;

export type ViewTable = PgTable & { id: PgColumn };

/**
 * An inline projection of one row per aggregate, carrying its table and pure `evolve` so that
 * the same definition can also be rebuilt from the log (`rebuild.ts`).
 */
export type ViewProjection<T extends ViewTable = ViewTable> = InlineProjection<PostgresSession> & {
  readonly table: T;
  readonly evolve: ViewEvolve<InferSelectModel<T>>;
};

/**
 * An inline projection of one row per aggregate: read the row, fold the command's events into
 * it, write it back. Runs in the command's transaction.
 */
export const viewProjection = <T extends ViewTable, E extends Event>(
  table: T,
  evolve: ViewEvolve<InferSelectModel<T>, E>,
): ViewProjection<T> => {
  const project: InlineProjection<PostgresSession> = async (session, events) => {
    const byAggregate = new Map<string, RecordedEvent[]>();
    for (const event of events) {
      const stream = byAggregate.get(event.aggregateId);
      if (stream) stream.push(event);
      else byAggregate.set(event.aggregateId, [event]);
    }
    for (const [aggregateId, stream] of byAggregate) {
      const [current] = (await session.tx
        .select()
        .from(table as PgTable)
        .where(eq(table.id, aggregateId))) as InferSelectModel<T>[];
      const next = stream.reduce<InferSelectModel<T> | undefined>(
        (view, event) => evolve(view, event as RecordedEvent<E>),
        current,
      );
      if (next === undefined) {
        if (current !== undefined) await session.tx.delete(table).where(eq(table.id, aggregateId));
      } else if (current === undefined) {
        await session.tx.insert(table).values(next as never);
      } else {
        await session.tx.update(table).set(next as never).where(eq(table.id, aggregateId));
      }
    }
  };
  return Object.assign(project, { table, evolve: evolve as ViewEvolve<InferSelectModel<T>> });
};

/** The read model as it was right after `version`, rebuilt from the stream; null when there was none. */
export const viewAtVersion = async <View, E extends Event>(
  reader: EventReader,
  aggregateId: string,
  version: number,
  evolve: ViewEvolve<View, E>,
): Promise<View | null> => {
  if (!Number.isInteger(version) || version < 1) return null;
  const events = await reader.readStream(aggregateId, { limit: version });
  if (events.length < version) return null;
  return events.reduce<View | undefined>((view, event) => evolve(view, event as RecordedEvent<E>), undefined) ?? null;
};
