import { NotFoundError, ValidationError } from '../eventstore/errors.js';
import { isId, newId } from '../eventstore/ids.js';

/** A client's own id for a new aggregate (`<prefix>_<ksuid>`), or a fresh one when absent. */
export const clientIdOrNew = (prefix: string, id: string | number | null | undefined): string => {
  if (id === null || id === undefined) return newId(prefix);
  if (!isId(prefix, String(id))) throw new ValidationError(`id must be a ${prefix}_ KSUID`, 'id');
  return String(id);
};

/** The id of an aggregate a command acts on; one that cannot be of this type is simply not found. */
export const existingId = (prefix: string, id: string | number, what: string): string => {
  if (!isId(prefix, String(id))) throw new NotFoundError(`no ${what} has this id`);
  return String(id);
};
