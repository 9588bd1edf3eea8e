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

/** A selected field: its name (not its alias) and what it selects in turn. */
type SelectedField = { readonly name: string; readonly selectionSet: SelectionSetNode | undefined };

/**
 * Whether every field the selection set selects, inline or through fragments, passes `test`.
 * `visited` keeps a fragment spread twice from being walked twice.
 */
const everyField = (
  info: GraphQLResolveInfo,
  selectionSet: SelectionSetNode | undefined,
  test: (field: SelectedField) => boolean,
  visited = new Set<string>(),
): boolean =>
  selectionSet === undefined ||
  selectionSet.selections.every((selection) => {
    switch (selection.kind) {
      case Kind.FIELD:
        return test({ name: selection.name.value, selectionSet: selection.selectionSet });
      case Kind.INLINE_FRAGMENT:
        return everyField(info, selection.selectionSet, test, visited);
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        if (visited.has(name)) return true;
        visited.add(name);
        const fragment = info.fragments[name];
        return fragment !== undefined && everyField(info, fragment.selectionSet, test, visited);
      }
    }
  });

/** A test on the fields named `name` only, given what they select; any other field passes. */
const whereNamed =
  (name: string, test: (selectionSet: SelectionSetNode | undefined) => boolean) =>
  (field: SelectedField): boolean =>
    field.name !== name || test(field.selectionSet);

/** True when an event's selection reads column fields only. */
const columnsOnly = (info: GraphQLResolveInfo, selectionSet: SelectionSetNode | undefined): boolean =>
  everyField(info, selectionSet, (field) => columnFields.has(field.name) && field.selectionSet === undefined);

/**
 * True when the selection under the field being resolved reads no event payload: only column
 * fields, inline or through fragments. A catch-up for it reads the table without `data` and
 * `metadata`, a tenth of the bytes for events of a kilobyte. A field that `@skip` or `@include`
 * may leave out counts as selected.
 */
export const selectsNoPayload = (info: GraphQLResolveInfo): boolean => info.fieldNodes.every((node) => columnsOnly(info, node.selectionSet));

/**
 * The same for a connection of events (the `events` query): true when what its `edges { node }`
 * select reads no payload. Its other fields (`pageInfo`, `cursor`) never do.
 */
export const nodesSelectNoPayload = (info: GraphQLResolveInfo): boolean => {
  const nodes = whereNamed('node', (selection) => columnsOnly(info, selection));
  const edges = whereNamed('edges', (selection) => everyField(info, selection, nodes));
  return info.fieldNodes.every((node) => everyField(info, node.selectionSet, edges));
};
