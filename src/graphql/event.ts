import type { FieldRef, ObjectFieldBuilder, SchemaTypes } from '@pothos/core';
import { decodeCursor, encodeCursor, logStart, UnknownCursorError } from '../eventstore/cursor.js';
import { ValidationError } from '../eventstore/errors.js';
import { subscribeToLog } from '../eventstore/log-subscription.js';
import type { EventReader } from '../eventstore/store.js';
import type { Event, RecordedEvent } from '../eventstore/types.js';
import { mayReadEvent, readableEvents, requireOwner } from '../auth/access.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { isTypedEvent, registerTypedEvent } from './event-types.js';
import { logFilter } from './log-filter.js';
import { columnFields, nodesSelectNoPayload, selectsNoPayload } from './payload-free.js';
import { connectionType, pageSize, toConnection } from './connection.js';
import { userInputError } from './errors.js';


export const EventInterface = builder.interfaceRef<RecordedEvent>('Event').implement({
  description:
    'One recorded event. Every domain event type has its own object type implementing this interface with typed payload fields.',
  resolveType: (event) => (isTypedEvent(event.type) ? event.type : 'UntypedEvent'),
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
  registerTypedEvent(type);
  return builder.objectRef<RecordedEvent<E>>(type).implement({
    description,
    interfaces: [EventInterface as never],
    fields: ((t: Parameters<typeof fields>[0]) => {
      const defined = fields(t);
      // A payload field named like a column field would be read without its payload (see payload-free.ts).
      const clash = Object.keys(defined).find((name) => columnFields.has(name));
      if (clash !== undefined) throw new Error(`event type ${type}: the field ${clash} is the Event interface's; name the payload field otherwise`);
      return defined;
    }) as never,
  });
};

type PothosTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export const EventConnection = connectionType<RecordedEvent>('Event', EventInterface, 'A page of events, in the global log’s order.');

/** A position cursor's position; a malformed one is a client error (VALIDATION_FAILED on `after`). */
export const cursorAfter = (after: string | null | undefined) => {
  if (after === null || after === undefined) return undefined;
  try {
    return decodeCursor(after);
  } catch (error) {
    return userInputError(error);
  }
};

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

/** The client's filter, checked (see `logFilter`); a bad one is a client error. */
const checkedFilter = (context: Context, args: Parameters<typeof logFilter>[1]) =>
  logFilter(context.services.read.primary.db, args).catch(userInputError);

builder.queryFields((t) => ({
  stream: t.field({
    type: [EventInterface],
    authScopes: { read: true },
    description: 'The events of one aggregate, oldest first, strictly after `afterVersion`. FORBIDDEN for an aggregate someone else owns.',
    args: {
      aggregateId: t.arg.id({ required: true, description: 'The aggregate.' }),
      afterVersion: t.arg.int({ defaultValue: 0, description: 'Only events with a greater version.' }),
      first: t.arg.int({ description: 'At most this many events (≤ 500; 500 when absent).' }),
    },
    resolve: async (_, args, context) => {
      const events = await (await context.read()).store.readStream(String(args.aggregateId), {
        afterVersion: args.afterVersion ?? 0,
        limit: args.first === null || args.first === undefined ? 500 : pageSize(args.first),
      });
      const [first] = events;
      if (first) await requireOwner(context.principal, first.aggregateType, first.aggregateId, context.services);
      return events;
    },
  }),
  events: t.field({
    type: EventConnection,
    authScopes: { read: true },
    description:
      'The global log in commit-safe order: an event appears only once nothing can commit before it. Only the events you may read: a page can hold fewer than `first` (even none) while `hasNextPage` is true; go on from `endCursor`.',
    args: {
      after: t.arg.string({ description: 'A `position` (or `endCursor`); start of the log when absent.' }),
      first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
      aggregateType: t.arg.string({ description: 'Only events of this aggregate type.' }),
      types: t.arg.stringList({ description: 'Only events of these types.' }),
    },
    resolve: async (_, args, context, info) => {
      const limit = pageSize(args.first);
      const filter = await checkedFilter(context, args);
      // The cursor is checked on the primary: one a mutation just returned may not be on the replica yet.
      const after = await positionAfter(context.services.store, args.after);
      const events = await (await context.read()).store.readLog({
        ...filter,
        ...(after && { after }),
        limit: limit + 1,
        ...(nodesSelectNoPayload(info) && { withoutPayload: true }),
      });
      const page = toConnection(events, limit, (event) => encodeCursor(event.logPosition), after !== undefined);
      // What the principal may not read is left out; the cursors still step over it.
      const readable = await Promise.all(page.edges.map((edge) => mayReadEvent(context.principal, edge.node, context.services)));
      if (readable.every(Boolean)) return page;
      const edges = page.edges.filter((_, index) => readable[index]);
      return { edges, pageInfo: { ...page.pageInfo, startCursor: edges[0]?.cursor ?? null, endCursor: page.pageInfo.endCursor } };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventInterface,
    authScopes: { read: true },
    description:
      'Every event after `after` (or from now when null; from the first event with `fromStart: true`), then live; in commit order, no gaps, no duplicates; only the events you may read. `after` with `fromStart: true` is VALIDATION_FAILED.',
    args: {
      after: t.arg.string({ description: 'Resume after this `position`.' }),
      fromStart: t.arg.boolean({
        defaultValue: false,
        description: 'Start with the first event of the log (then live), not from now. Not together with `after`.',
      }),
      aggregateId: t.arg.id({ description: 'Only events of this aggregate.' }),
      aggregateType: t.arg.string({ description: 'Only events of this aggregate type.' }),
      types: t.arg.stringList({ description: 'Only events of these types.' }),
    },
    subscribe: async (_, args, context, info) => {
      const { services } = context;
      if (args.fromStart && args.after != null) {
        userInputError(new ValidationError('give either `after` or `fromStart: true`, not both', 'fromStart'));
      }
      const filter = await checkedFilter(context, args);
      // "From now" is the newest commit-safe position in the database, not wherever the relay is.
      const after = args.fromStart
        ? logStart
        : ((await positionAfter(services.store, args.after)) ?? (await services.relay.head()));
      if (filter.aggregateId !== undefined) {
        const [first] = await services.store.readStream(filter.aggregateId, { limit: 1 });
        if (first) await requireOwner(context.principal, first.aggregateType, first.aggregateId, services);
      }
      const events = subscribeToLog(services.relay, services.store, {
        ...filter,
        after,
        catchUpReader: async (lsn) => (await services.read.readerAt(lsn)).store,
        withoutPayload: selectsNoPayload(info),
      });
      return readableEvents(events, context.principal, services);
    },
    resolve: (event) => event,
  }),
}));
