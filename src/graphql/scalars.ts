import { Decimal } from '../lib/decimal.js';
import { GraphQLError, Kind, type ValueNode } from 'graphql';

export const maxFractionDigits = 18;
export const maxIntegerDigits = 18;
/**
 * What a Decimal looks like: an optional minus, digits, and optional fraction digits after a point.
 * No plus sign, no spaces around it, no exponent, no bare point: one spelling per number.
 */
const decimalPattern = /^-?(\d+)(?:\.(\d+))?$/;

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });

/** Parses an exact decimal: a string (or a safe integer), at most 18 integer and 18 fraction digits. */
export const parseDecimal = (value: unknown): string => {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string') throw invalid('Decimal must be a string such as "1.11" (never a float)');
  const match = decimalPattern.exec(text);
  if (!match) throw invalid(`"${text.slice(0, 60)}" is not a decimal number`);
  const integer = match[1]!.replace(/^0+(?=\d)/, '');
  if (integer.length > maxIntegerDigits) throw invalid(`Decimal allows at most ${maxIntegerDigits} integer digits`);
  if ((match[2]?.length ?? 0) > maxFractionDigits) {
    throw invalid(`Decimal allows at most ${maxFractionDigits} fraction digits`);
  }
  return new Decimal(text).toFixed();
};

/** Renders a stored numeric (e.g. `1.110000000000000000`) in its shortest exact form (`1.11`). */
export const serializeDecimal = (value: unknown): string => {
  if (typeof value !== 'string' && !(value instanceof Decimal)) throw new TypeError('Decimal output must be a string');
  return new Decimal(value).toFixed();
};

export const parseDecimalLiteral = (node: ValueNode): string => {
  if (node.kind === Kind.STRING || node.kind === Kind.INT) return parseDecimal(node.kind === Kind.INT ? Number(node.value) : node.value);
  throw invalid('Decimal must be a string such as "1.11"');
};
