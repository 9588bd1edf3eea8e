import { idPrefix } from '../eventstore/ids.js';
import { builder } from './builder.js';
import type { Context } from './context.js';

type NodeLoader = (id: string, context: Context) => Promise<{ id: string } | null | undefined>;

const nodeTypes = new Map<string, { typeName: string; load: NodeLoader }>();

export const NodeInterface = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object with a globally unique id (a KSUID with a type prefix, e.g. `tx_…`).',
  resolveType: (node) => nodeTypes.get(idPrefix(node.id) ?? '')?.typeName ?? null,
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Globally unique; its prefix names the type.' }),
  }),
});

/** Makes `node(id)` resolve ids with this prefix. */
export const registerNode = (prefix: string, typeName: string, load: NodeLoader): void => {
  nodeTypes.set(prefix, { typeName, load });
};

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    authScopes: { read: true },
    description: 'Any object by its id; null when it does not exist; FORBIDDEN when someone else owns it.',
    args: { id: t.arg.id({ required: true, description: 'A typed id such as `tx_…`.' }) },
    resolve: async (_, { id }, context) => {
      const entry = nodeTypes.get(idPrefix(String(id)) ?? '');
      return (await entry?.load(String(id), context)) ?? null;
    },
  }),
);
