import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ValidationError } from '../eventstore/errors.js';
import type { LogFilter } from '../eventstore/store.js';
import { modules } from '../modules/index.js';
import { isTypedEvent } from './event-types.js';

/** The most event types one filter may name. */
export const maxFilterTypes = 100;
const namePattern = /^[A-Za-z][A-Za-z0-9_]{0,199}$/;

/** Names this log knows: registered by a module, or seen in the log (kept once seen). */
const seen = { type: new Set<string>(), aggregate_type: new Set<string>() };

const unknownOf = async (db: Database, column: 'type' | 'aggregate_type', names: readonly string[]): Promise<string[]> => {
  const unchecked = names.filter((name) => !seen[column].has(name));
  if (unchecked.length === 0) return [];
  const rows = await db.execute<{ name: string }>(sql`
    select n.name from jsonb_array_elements_text(${JSON.stringify(unchecked)}::jsonb) as n (name)
     where not exists (select 1 from es.events e where e.${sql.raw(column)} = n.name)`);
  const unknown = new Set(rows.map((row) => row.name));
  for (const name of unchecked) if (!unknown.has(name)) seen[column].add(name);
  return [...unknown];
};

/**
 * A log filter from a client's arguments, checked: at most 100 types, each a name this log knows
 * (a module's event type, or one the log holds), and an aggregate type it knows likewise. An
 * unknown name is VALIDATION_FAILED, not an empty answer: it is most likely a typo. An empty
 * `types` list means every type.
 */
export const logFilter = async (
  db: Database,
  args: { readonly aggregateId?: string | number | null; readonly aggregateType?: string | null; readonly types?: readonly string[] | null },
): Promise<LogFilter> => {
  const types = args.types ?? [];
  if (types.length > maxFilterTypes) throw new ValidationError(`types names at most ${maxFilterTypes} event types`, 'types');
  for (const type of types) if (!namePattern.test(type)) throw new ValidationError(`"${type.slice(0, 60)}" is not an event type`, 'types');
  const unknownTypes = await unknownOf(db, 'type', types.filter((type) => !isTypedEvent(type)));
  if (unknownTypes.length > 0) throw new ValidationError(`no event of type "${unknownTypes[0]!.slice(0, 60)}" is known to this log`, 'types');
  const { aggregateType } = args;
  if (aggregateType != null) {
    const registered = modules.some((module) => module.projections.some((projection) => projection.aggregateType === aggregateType));
    if (!namePattern.test(aggregateType) || (!registered && (await unknownOf(db, 'aggregate_type', [aggregateType])).length > 0)) {
      throw new ValidationError(`"${aggregateType.slice(0, 60)}" is no aggregate type this log knows`, 'aggregateType');
    }
  }
  return {
    ...(args.aggregateId != null && { aggregateId: String(args.aggregateId) }),
    ...(aggregateType != null && { aggregateType }),
    ...(types.length > 0 && { types }),
  };
};
