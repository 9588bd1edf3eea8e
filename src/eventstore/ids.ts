import { randomFillSync } from 'node:crypto';

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

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** KSUID's epoch, 2014-05-13T16:53:20Z, in seconds since 1970. */
const ksuidEpochSeconds = 1_400_000_000;
/** The 20 bytes of the KSUID being written, as five big-endian 32-bit words. */
const words = new Uint32Array(5);
const digits: string[] = new Array<string>(27);

/**
 * A KSUID's 27 base-62 characters: its 20 bytes (a 32-bit timestamp in seconds since the KSUID
 * epoch, then 16 payload bytes) as one number, by long division over 32-bit words. The ksuid
 * package converts through an array per digit: 10–20 µs an id, several ids per command.
 */
export const encodeKsuid = (timestamp: number, bytes: Uint8Array): string => {
  words[0] = timestamp;
  for (let w = 1; w < 5; w++) {
    const at = (w - 1) * 4;
    words[w] = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  }
  for (let digit = 26; digit >= 0; digit--) {
    let remainder = 0;
    for (let w = 0; w < 5; w++) {
      const value = remainder * 0x1_0000_0000 + words[w]!; // < 62 · 2³²: exact in a double
      const quotient = Math.floor(value / 62);
      remainder = value - quotient * 62;
      words[w] = quotient;
    }
    digits[digit] = base62[remainder]!;
  }
  return digits.join('');
};

/** A KSUID with a type prefix, e.g. `evt_2Bq…`. Identifies; never orders. */
export const newId = (prefix: string): string => `${prefix}_${encodeKsuid(Math.floor(Date.now() / 1e3) - ksuidEpochSeconds, payload())}`;

const ksuidPattern = /^[0-9A-Za-z]{27}$/;
/**
 * The largest KSUID (20 bytes of 0xff). Base-62 digits are in ASCII order, so among bodies of
 * 27 of them text order is numeric order: one comparison says whether a body fits 20 bytes.
 */
const largestKsuid = 'aWgEPTl1tmebfsQzFP4bxwgy80V';

/** True when `id` is `<prefix>_<27 base62 characters>` and the KSUID fits its 20 bytes. */
export const isId = (prefix: string, id: string): boolean => {
  if (!id.startsWith(`${prefix}_`)) return false;
  const body = id.slice(prefix.length + 1);
  return ksuidPattern.test(body) && body <= largestKsuid;
};

/** The prefix of a typed id (`tx` for `tx_…`), or undefined. */
export const idPrefix = (id: string): string | undefined => {
  const at = id.indexOf('_');
  return at > 0 ? id.slice(0, at) : undefined;
};
