import { randomFillSync } from 'node:crypto';
import KSUID from 'ksuid';

/** Random payloads for 256 KSUIDs, filled at once: one call to the system's generator per 256 ids, not one each. */
const randomPool = Buffer.alloc(16 * 256);
let taken = randomPool.length;

const payload = (): Buffer => {
  if (taken === randomPool.length) {
    randomFillSync(randomPool);
    taken = 0;
  }
  taken += 16;
  return randomPool.subarray(taken - 16, taken);
};

/** A KSUID with a type prefix, e.g. `evt_2Bq…`. Identifies; never orders. */
export const newId = (prefix: string): string => `${prefix}_${KSUID.fromParts(Date.now(), payload()).string}`;

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
