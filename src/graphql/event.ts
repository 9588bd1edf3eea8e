import type { FieldRef, ObjectFieldBuilder, SchemaTypes } from '@pothos/core';
import { decodeCursor, encodeCursor, UnknownCursorError } from '../eventstore/cursor.js';
import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { EventReader } from '../eventstore/store.js';
import type { Event, RecordedEvent } from '../eventstore/types.js';
import { builder } from './builder.js';
import { connectionType, pageSize, toConnection } from './connection.js';
import { userInputError } from './errors.js';

const typedEvents = new Set<string>();

export const EventInterface = builder.interfaceRef<RecordedEvent>('Event').implement({
  description:
    'One recorded event. Every domain event type has its own object type implementing this interface with typed payload fields.',
  resolveType: (event) => (typedEvents.has(event.type) ? event.type : 'UntypedEvent'),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Unique id, `evt_<ksuid>`. Identifies; does not order.' }),
    position: t.string({
      description: 'Opaque cursor in the global, commit-safe order; resume a subscription or page `events` with it.',
      resolve: (event) => encodeCursor(event.logPosition),
    }),
    aggregateId: t.exposeID('aggregateId', { description: 'The aggregate (stream) this event belongs to.' }),
    aggregateType: t.exposeString('aggregateType', { description: 'The kind of aggregate, e.g. `Transaction`.' }),
    version: t.exposeInt('version', { description: 'The aggregate version after this event (1-based).' }),
    type: t.exposeString('type', { description: 'The event type, e.g. `TransactionCreated`.' }),
    data: t.field({ type: 'JSON', description: 'The payload as stored.', resolve: (event) => event.data }),
    metadata: t.field({
      type: 'JSON',
      description: 'correlationId, causationId, commandId, idempotencyKey, actor…',
      resolve: (event) => event.metadata,
    }),
    occurredAt: t.field({
      type: 'DateTime',
      description: 'When the command that caused it was handled.',
      resolve: (event) => event.occurredAt,
    }),
    recordedAt: t.field({
      type: 'DateTime',
      description: 'When the database recorded it.',
      resolve: (event) => event.recordedAt,
    }),
  }),
});

builder.objectRef<RecordedEvent>('UntypedEvent').implement({
  description: 'An event whose type has no GraphQL type of its own; read its `data`.',
  interfaces: [EventInterface],
  fields: () => ({}),
});

/**
 * Registers the GraphQL type of one domain event: its name is the event type and its fields
 * read the typed payload.
 */
export const eventType = <E extends Event>(
  type: E['type'],
  description: string,
  fields: (
    t: ObjectFieldBuilder<SchemaTypes & PothosTypes, RecordedEvent<E>>,
  ) => Record<string, FieldRef<SchemaTypes & PothosTypes, unknown, 'Object'>>,
) => {
  typedEvents.add(type);
  return builder.objectRef<RecordedEvent<E>>(type).implement({
    description,
    interfaces: [EventInterface as never],
    fields: fields as never,
  });
};

type PothosTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

const EventConnection = connectionType<RecordedEvent>('Event', EventInterface, 'A page of the global event log.');

/** The position a client's cursor names; a malformed one, or one naming no event here, is a client error. */
const positionAfter = async (store: EventReader, after: string | null | undefined) => {
  if (after === null || after === undefined) return undefined;
  try {
    const at = decodeCursor(after);
    if (!(await store.hasEvent(at))) throw new UnknownCursorError(after);
    return at;
  } catch (error) {
    return userInputError(error);
  }
};

/** An empty `types` list means "every type". */
const typeFilter = (types: readonly string[] | null | undefined) =>
  types && types.length > 0 ? { types } : {};

builder.queryFields((t) => ({
  stream: t.field({
    type: [EventInterface],
    description: 'The events of one aggregate, oldest first, strictly after `afterVersion`.',
    args: {
      aggregateId: t.arg.id({ required: true, description: 'The aggregate.' }),
      afterVersion: t.arg.int({ defaultValue: 0, description: 'Only events with a greater version.' }),
      first: t.arg.int({ description: 'At most this many events (≤ 500; 500 when absent).' }),
    },
    resolve: (_, args, { services }) =>
      services.store.readStream(String(args.aggregateId), {
        afterVersion: args.afterVersion ?? 0,
        limit: args.first === null || args.first === undefined ? 500 : pageSize(args.first),
      }),
  }),
  events: t.field({
    type: EventConnection,
    description: 'The global log in commit-safe order: an event appears only once nothing can commit before it.',
    args: {
      after: t.arg.string({ description: 'A `position` (or `endCursor`); start of the log when absent.' }),
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      aggregateType: t.arg.string({ description: 'Only events of this aggregate type.' }),
      types: t.arg.stringList({ description: 'Only events of these types.' }),
    },
    resolve: async (_, args, { services }) => {
      const limit = pageSize(args.first);
      const after = await positionAfter(services.store, args.after);
      const events = await services.store.readLog({
        ...(after && { after }),
        ...(args.aggregateType && { aggregateType: args.aggregateType }),
        ...typeFilter(args.types),
        limit: limit + 1,
      });
      return toConnection(events, limit, (event) => encodeCursor(event.logPosition), after !== undefined);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventInterface,
    description:
      'Every event after `after` (or from now when null), then live; in commit order, no gaps, no duplicates.',
    args: {
      after: t.arg.string({ description: 'Resume after this `position`.' }),
      aggregateId: t.arg.id({ description: 'Only events of this aggregate.' }),
      aggregateType: t.arg.string({ description: 'Only events of this aggregate type.' }),
      types: t.arg.stringList({ description: 'Only events of these types.' }),
    },
    subscribe: async (_, args, { services }) => {
      // "From now" is the newest commit-safe position in the database, not wherever the relay is.
      const after = (await positionAfter(services.store, args.after)) ?? (await services.relay.head());
      return subscribeToLog(services.relay, services.store, {
        after,
        ...(args.aggregateId && { aggregateId: String(args.aggregateId) }),
        ...(args.aggregateType && { aggregateType: args.aggregateType }),
        ...typeFilter(args.types),
      });
    },
    resolve: (event) => event,
  }),
}));
