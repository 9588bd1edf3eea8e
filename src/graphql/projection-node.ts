import type { FieldRef, InputFieldMap, ObjectFieldBuilder, ObjectRef } from '@pothos/core';
import { and, type InferSelectModel, type SQL } from 'drizzle-orm';
import { owns, registerOwners, requireOwner, type Owners } from '../auth/access.js';
import { isAdmin } from '../auth/principal.js';
import { NotFoundError, ValidationError } from '../eventstore/errors.js';
import { isId } from '../eventstore/ids.js';
import { userInputError } from './errors.js';
import { findRow, viewAtVersion, type ViewEvolve, type ViewTable } from '../eventstore/view-projection.js';
import { builder, type Types } from './builder.js';
import { projectionChanges, rowAtVersion } from './changes.js';
import { connectionType, pageById, pageSize, toConnection, type Connection } from './connection.js';
import { encodeCursor } from '../eventstore/cursor.js';
import type { Context } from './context.js';
import { cursorAfter, EventConnection } from './event.js';
import { NodeInterface, registerNode } from './node.js';

type Row<T extends ViewTable> = InferSelectModel<T> & { id: string; version: number };

export type ProjectionNodeOptions<T extends ViewTable, ListArgs extends InputFieldMap> = {
  /** The GraphQL type, e.g. `Account`; its query field is the same in camel case (`account`). */
  readonly name: string;
  readonly description: string;
  /** The id prefix (`acc`); `article` is how descriptions say it ("An `acc_` id", "A `tx_` id"). */
  readonly idPrefix: string;
  readonly article?: 'A' | 'An';
  /** How descriptions name one of them: `{ one: 'money transfer', many: 'money transfers', short: 'transfer' }`. */
  readonly noun: { readonly one: string; readonly many: string; readonly short?: string };
  readonly table: T;
  /** The view fold, for time travel (`xVersion`) and for changes a subscriber lags behind. */
  readonly evolve: ViewEvolve<Row<T>, never>;
  /** The type's own fields; `id`, `version` and `events` come with it. */
  readonly fields: (t: ObjectFieldBuilder<Types, Row<T>>) => Record<string, FieldRef<Types, unknown, 'Object'>>;
  readonly eventsDescription?: string;
  /** The list query (`accounts`): its description, extra arguments and the filter they make. */
  readonly list: {
    readonly description: string;
    readonly args?: (t: Parameters<Parameters<typeof builder.queryField>[1]>[0]['arg']) => ListArgs;
    readonly filter?: (args: Record<string, unknown>) => SQL | undefined;
  };
  /** The `…Changed` subscription's description. */
  readonly changed: string;
  /**
   * Who owns one of them (README, "Security"). Absent, they are shared: every reader reads them.
   * Present, a principal who is not an admin reads only their own: `x(id)` and `node(id)` are
   * FORBIDDEN for another's, `xs` lists only theirs, `xChanged` is FORBIDDEN, and their events are
   * left out of `events` (query and subscription) and `stream`.
   */
  readonly owners?: {
    readonly aggregateType: string;
    /** The owners of aggregate `id` (none when it does not exist). */
    readonly of: Owners;
    /** The rows owned by `sub`, for the list query. */
    readonly ownedBy: (sub: string) => SQL;
  };
};

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const article = (noun: string) => `${/^[aeiou]/i.test(noun) ? 'An' : 'A'} ${noun}`;

/**
 * A projection row as a GraphQL `Node`: its object type (with `id`, `version` and `events`), `node`
 * resolution by id prefix, `x(id)`, `xs(first, after, …)`, `xChanged(id)`, and time travel:
 * `xVersion(id, version)`, an `XVersion` with an identity of its own (`acc_…@3`), so a normalised
 * client cache keeps the past apart from the present.
 * Queries read where the request reads (a replica, see ReadPath); the subscription reads the
 * primary, where the relay finds the changes. Returns the type, with its connection type, for
 * other types to refer to.
 */
export const projectionNode = <T extends ViewTable, ListArgs extends InputFieldMap = {}>(
  options: ProjectionNodeOptions<T, ListArgs>,
): ObjectRef<Types, Row<T>> & { readonly connection: ObjectRef<Types, Connection<Row<T>>> } => {
  const { name, idPrefix, table, noun } = options;
  const a = `${options.article ?? 'An'} \`${idPrefix}_\``;
  const single = camel(name);
  const ofThisType = (id: unknown): id is string => typeof id === 'string' && id.startsWith(`${idPrefix}_`);

  const { owners } = options;
  if (owners) registerOwners(owners.aggregateType, owners.of);

  const type = builder.objectRef<Row<T>>(name).implement({
    description: options.description,
    interfaces: [NodeInterface],
    // Checked once per object, wherever it is reached from (a query, `node`, a command's answer).
    ...(owners && { authScopes: (row: Row<T>, context: Context) => owns(context.principal, owners.aggregateType, row.id, context.services) }),
    isTypeOf: (value) => ofThisType((value as { id?: unknown }).id),
    fields: (t) => ({
      id: t.exposeID('id' as never, { description: `${a} KSUID.` }),
      version: t.exposeInt('version' as never, { description: 'Stream version this row reflects.' }),
      events: t.field({
        type: EventConnection,
        description: options.eventsDescription ?? 'Its stream, oldest first, a page at a time.',
        args: {
          first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
          after: t.arg.string({ description: 'The `endCursor` of the previous page (an event’s `position`).' }),
        },
        resolve: async (row, args, context) => {
          const limit = pageSize(args.first);
          const after = cursorAfter(args.after);
          const events = await (await context.read()).store.readStream(row.id, { ...(after && { after }), limit: limit + 1 });
          return toConnection(events, limit, (event) => encodeCursor(event.logPosition), after !== undefined);
        },
      }),
      ...options.fields(t),
    }),
  });

  registerNode(idPrefix, name, async (id, context) => findRow((await context.read()).db, table, id) as Promise<Row<T> | undefined>);

  const connection = connectionType<Row<T>>(name, type, `A page of ${noun.many}, oldest id first.`);

  /** The row as it was right after one version: the same fields, its own id. */
  const versionType = builder.objectRef<Row<T>>(`${name}Version`).implement({
    description: `${article(noun.one)} as it was right after one version of its stream: it never changes, and its \`id\` is its own (\`<id>@<version>\`), so a client cache keeps it apart from the live ${name}.`,
    ...(owners && { authScopes: (row: Row<T>, context: Context) => owns(context.principal, owners.aggregateType, row.id, context.services) }),
    fields: (t) => ({
      id: t.id({ description: 'This version’s own identity, `<id>@<version>`.', resolve: (row) => `${row.id}@${row.version}` }),
      [`${single}Id`]: t.id({ description: `The ${noun.one}’s id (${a}).`, resolve: (row) => row.id }),
      version: t.exposeInt('version' as never, { description: 'The stream version this is the state after.' }),
      ...options.fields(t),
    }),
  });

  builder.queryFields((t) => ({
    [single]: t.field({
      type,
      nullable: true,
      authScopes: { read: true },
      description: `One ${noun.one} by id; null when it does not exist.${owners ? ` FORBIDDEN when it is someone else's.` : ''}`,
      args: { id: t.arg.id({ required: true, description: `${a} id.` }) },
      // (Pothos cannot follow a generic table's row type here; the row is the type's.)
      resolve: (async (_: unknown, { id }: { id: string | number }, context: Context) => {
        if (!isId(idPrefix, String(id))) return null;
        return (await findRow((await context.read()).db, table, String(id))) ?? null;
      }) as never,
    }),
    [`${single}Version`]: t.field({
      type: versionType,
      nullable: true,
      authScopes: { read: true },
      description: `Time travel: the ${noun.short ?? noun.one} as it was right after \`version\`, folded from its events; null when it does not exist or never reached that version.${owners ? ` FORBIDDEN when it is someone else's.` : ''}`,
      args: {
        id: t.arg.id({ required: true, description: `${a} id.` }),
        version: t.arg.int({ required: true, description: 'A version of its stream, from 1.' }),
      },
      resolve: (async (_: unknown, { id, version }: { id: string | number; version: number }, context: Context) => {
        if (!isId(idPrefix, String(id))) return null;
        const { store } = await context.read();
        return (await viewAtVersion(store, String(id), version, options.evolve as ViewEvolve<Row<T>>)) ?? null;
      }) as never,
    }),
    [`${single}s`]: t.field({
      type: connection,
      authScopes: { read: true },
      description: `${options.list.description}${owners ? ' Only your own (all of them for an admin).' : ''}`,
      args: {
        first: t.arg.int({ description: 'Page size, at most 500 (50 when absent).' }),
        after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
        ...(options.list.args?.(t.arg) as ListArgs),
      },
      resolve: async (_, args, context: Context) => {
        const mine = owners && !isAdmin(context.principal) ? owners.ownedBy(context.principal.sub ?? '') : undefined;
        const filter = and(options.list.filter?.(args), mine);
        return pageById((await context.read()).db, table, args as { first?: number | null; after?: string | null }, filter) as never;
      },
    }),
  }));

  builder.subscriptionField(`${single}Changed`, (t) =>
    t.field({
      type,
      authScopes: { read: true },
      description: `${options.changed} From now on means after the version the stream has when the subscription starts, or after \`afterVersion\` when given (the versions already committed come first). An id no ${noun.one} has is NOT_FOUND, an id of another kind VALIDATION_FAILED${owners ? `, one that is someone else's FORBIDDEN` : ''}.`,
      args: {
        id: t.arg.id({ required: true, description: `${a} id.` }),
        afterVersion: t.arg.int({
          description:
            'Push every version after this one, those already committed first: subscribe with the version you have read, and miss nothing in between. Absent: from the version it has when the subscription starts.',
        }),
      },
      // The row as of each event, not the current row: a fast writer must not hide a step.
      // Told at once when there is nothing to watch: an id of another type, or one with no stream.
      subscribe: async (_, { id, afterVersion }, context) => {
        const { services } = context;
        if (afterVersion != null && afterVersion < 0) userInputError(new ValidationError('afterVersion must be 0 or more', 'afterVersion'));
        if (!isId(idPrefix, String(id))) userInputError(new ValidationError(`id must be ${a.charAt(0).toLowerCase()}${a.slice(1)} KSUID`, 'id'));
        if (owners) await requireOwner(context.principal, owners.aggregateType, String(id), services);
        const changes = await projectionChanges(
          services,
          String(id),
          {
            at: rowAtVersion(services, (key) => findRow(services.read.primary.db, table, key) as Promise<Row<T> | undefined>, options.evolve),
            evolve: options.evolve,
          },
          afterVersion ?? undefined,
        );
        return changes ?? userInputError(new NotFoundError(`no ${noun.one} has this id`));
      },
      resolve: (row) => row as never,
    }),
  );

  return Object.assign(type, { connection });
};
