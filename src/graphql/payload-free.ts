import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The `Event` fields answered from an event's columns alone. Every other field (`data`,
 * `metadata`, a typed event's payload fields) reads the payload; `eventType` refuses a typed
 * event field of one of these names, so a name here always means the interface's field.
 */
export const columnFields: ReadonlySet<string> = new Set([
  '__typename',
  'id',
  'position',
  'aggregateId',
  'aggregateType',
  'version',
  'type',
  'occurredAt',
  'recordedAt',
]);

/**
 * True when the selection under the field being resolved reads no event payload: only column
 * fields, inline or through fragments. A catch-up for it reads the table without `data` and
 * `metadata`, a tenth of the bytes for events of a kilobyte. A field that `@skip` or `@include`
 * may leave out counts as selected.
 */
export const selectsNoPayload = (info: GraphQLResolveInfo): boolean => {
  const visited = new Set<string>();
  const free = (selectionSet: SelectionSetNode | undefined): boolean =>
    selectionSet === undefined ||
    selectionSet.selections.every((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return columnFields.has(selection.name.value) && selection.selectionSet === undefined;
        case Kind.INLINE_FRAGMENT:
          return free(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (visited.has(name)) return true;
          visited.add(name);
          const fragment = info.fragments[name];
          return fragment !== undefined && free(fragment.selectionSet);
        }
      }
    });
  return info.fieldNodes.every((node) => free(node.selectionSet));
};
