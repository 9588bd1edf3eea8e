import { Decimal as DecimalJs } from 'decimal.js';

/**
 * Exact decimal arithmetic for money. decimal.js computes at 20 significant digits by default,
 * which rounds `123456789012345.123456789 + 1`; amounts carry up to 18 integer and 18 fraction
 * digits (36 significant), and a balance adds them up. Sixty significant digits keep every sum
 * and difference of such numbers exact (a property test compares them with PostgreSQL's numeric).
 * Our own clone: the global constructor keeps its defaults for whatever else uses it.
 */
export const Decimal = DecimalJs.clone({ precision: 60, rounding: DecimalJs.ROUND_HALF_EVEN });
export type Decimal = DecimalJs;

/** `a + b`, exactly, in its shortest form (`"1.5"`, never `"1.50"` or an exponent). */
export const add = (a: string, b: string): string => new Decimal(a).plus(b).toFixed();

/** `a - b`, exactly, in its shortest form. */
export const subtract = (a: string, b: string): string => new Decimal(a).minus(b).toFixed();
