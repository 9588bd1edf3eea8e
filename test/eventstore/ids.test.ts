import fc from 'fast-check';
import KSUID from 'ksuid';
import { describe, expect, it } from 'vitest';
import { encodeKsuid, idPrefix, isId, newId } from '../../src/eventstore/ids.js';

// The ksuid package is the reference: cairn's ids must be the KSUIDs it writes and parses.
const ksuidEpochMs = 14e11;
const latestMs = 1e3 * (2 ** 32 - 1) + ksuidEpochMs;
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** What the ksuid package says of a 27-character body: it parses, or it does not. */
const parses = (body: string): boolean => {
  try {
    KSUID.parse(body);
    return true;
  } catch {
    return false;
  }
};

describe('ids', () => {
  it('writes every timestamp and payload as the ksuid package does', () => {
    const payload = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes));
    const edges = fc.constantFrom(Buffer.alloc(16, 0), Buffer.alloc(16, 0xff));
    fc.assert(
      fc.property(fc.integer({ min: ksuidEpochMs, max: latestMs }), fc.oneof(payload, edges), (ms, bytes) => {
        expect(encodeKsuid(Math.floor((ms - ksuidEpochMs) / 1e3), bytes)).toBe(KSUID.fromParts(ms, bytes).string);
      }),
      { numRuns: 2_000 },
    );
  });

  it('makes typed ids that the ksuid package parses back to now', () => {
    const before = Date.now();
    const id = newId('evt');
    expect(id).toMatch(/^evt_[0-9A-Za-z]{27}$/);
    const seconds = KSUID.parse(id.slice(4)).date.getTime();
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before / 1e3) * 1e3);
    expect(seconds).toBeLessThanOrEqual(Date.now());
    expect(new Set(Array.from({ length: 1_000 }, () => newId('evt'))).size).toBe(1_000);
  });

  it('accepts exactly the bodies the ksuid package parses, with the right prefix', () => {
    const body = fc.string({ unit: fc.constantFrom(...base62), minLength: 27, maxLength: 27 });
    const nearTheTop = fc.string({ unit: fc.constantFrom(...base62), minLength: 20, maxLength: 20 }).map((tail) => `aWgEPTl${tail}`);
    fc.assert(
      fc.property(fc.oneof(body, nearTheTop), (candidate) => {
        expect(isId('acc', `acc_${candidate}`)).toBe(parses(candidate));
      }),
      { numRuns: 2_000 },
    );
    expect(isId('acc', 'acc_aWgEPTl1tmebfsQzFP4bxwgy80V')).toBe(true); // the largest KSUID
    expect(isId('acc', 'acc_aWgEPTl1tmebfsQzFP4bxwgy80W')).toBe(false);
    expect(isId('acc', `acc_${'0'.repeat(27)}`)).toBe(true);
    expect(isId('acc', `tx_${'0'.repeat(27)}`)).toBe(false);
    expect(isId('acc', `acc_${'0'.repeat(26)}`)).toBe(false);
    expect(isId('acc', `acc_${'0'.repeat(26)}-`)).toBe(false);
    expect(idPrefix('acc_2')).toBe('acc');
  });
});
