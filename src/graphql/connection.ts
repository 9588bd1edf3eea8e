import { and, asc, gt, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { GraphQLError } from 'graphql';
import type { Executor } from '../db/client.js';
import type { OutputRef } from '@pothos/core';
import { builder } from './builder.js';

export const maxPageSize = 500;
export const defaultPageSize = 50;

export type Connection<T> = {
  readonly edges: readonly { readonly cursor: string; readonly node: T }[];
  readonly pageInfo: PageInfo;
};

export type PageInfo = {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly startCursor: string | null;
  readonly endCursor: string | null;
};

export const PageInfoType = builder.objectRef<PageInfo>('PageInfo').implement({
  description: 'Relay pagination state of a connection.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', { description: 'More items follow `endCursor`.' }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', { description: 'Items precede `startCursor`.' }),
    startCursor: t.exposeString('startCursor', { nullable: true, description: 'Cursor of the first edge.' }),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: 'Cursor of the last edge; pass it as `after` for the next page.',
    }),
  }),
});

/** Validates `first`: 1 to 500, 50 when absent. */
export const pageSize = (first: number | null | undefined): number => {
  if (first === null || first === undefined) return defaultPageSize;
  if (!Number.isInteger(first) || first < 0 || first > maxPageSize) {
    throw new GraphQLError(`first must be between 0 and ${maxPageSize}`, {
      extensions: { code: 'VALIDATION_FAILED' },
    });
  }
  return first;
};

/** Builds a page from `limit + 1` fetched items. */
export const toConnection = <T>(
  items: readonly T[],
  limit: number,
  cursorOf: (item: T) => string,
  hasPreviousPage: boolean,
): Connection<T> => {
  const page = items.slice(0, limit);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > limit,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
};

/** `XConnection` and `XEdge` types for a node type. */
export const connectionType = <T>(name: string, node: OutputRef<T>, description: string) => {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    description: `One ${name} in a page.`,
    fields: (t) => ({
      cursor: t.exposeString('cursor', { description: 'Opaque position of this edge.' }),
      node: t.field({ type: node as OutputRef<T> & Parameters<typeof t.field>[0]['type'], description: `The ${name}.`, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${name}Connection`).implement({
    description,
    fields: (t) => ({
      edges: t.field({ type: [edge], description: 'The items of this page, in order.', resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfoType, description: 'Where this page stands.', resolve: (c) => c.pageInfo }),
    }),
  });
};


/** Opaque cursors for projection lists, keyed by id. */
export const encodeIdCursor = (id: string): string => Buffer.from(`id:${id}`, 'utf8').toString('base64url');
export const decodeIdCursor = (cursor: string): string => {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('id:') || encodeIdCursor(text.slice(3)) !== cursor) {
    throw new GraphQLError('after is not a cursor of this list', { extensions: { code: 'VALIDATION_FAILED' } });
  }
  return text.slice(3);
};

type IdTable = PgTable & { id: PgColumn };

/**
 * One page of a projection table in id (KSUID) order, after the `after` cursor, narrowed by
 * `filter`: every `…s(first, after, …)` list query.
 */
export const pageById = async <T extends IdTable>(
  db: Executor,
  table: T,
  args: { first?: number | null; after?: string | null },
  filter?: SQL,
): Promise<Connection<InferSelectModel<T>>> => {
  const limit = pageSize(args.first);
  const after = args.after ? decodeIdCursor(args.after) : undefined;
  const rows = (await db
    .select()
    .from(table as PgTable)
    .where(and(after === undefined ? undefined : gt(table.id, after), filter))
    .orderBy(asc(table.id))
    .limit(limit + 1)) as InferSelectModel<T>[];
  return toConnection(rows, limit, (row) => encodeIdCursor((row as { id: string }).id), after !== undefined);
};
