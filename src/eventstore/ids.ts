import KSUID from 'ksuid';

/** A KSUID with a type prefix, e.g. `evt_2Bq…`. Identifies; never orders. */
export const newId = (prefix: string): string => `${prefix}_${KSUID.randomSync().string}`;

const ksuidPattern = /^[0-9A-Za-z]{27}$/;

/** True when `id` is `<prefix>_<27 base62 characters>` and the KSUID parses. */
export const isId = (prefix: string, id: string): boolean => {
  if (!id.startsWith(`${prefix}_`)) return false;
  const body = id.slice(prefix.length + 1);
  if (!ksuidPattern.test(body)) return false;
  try {
    KSUID.parse(body);
    return true;
  } catch {
    return false;
  }
};

/** The prefix of a typed id (`tx` for `tx_…`), or undefined. */
export const idPrefix = (id: string): string | undefined => {
  const at = id.indexOf('_');
  return at > 0 ? id.slice(0, at) : undefined;
};
