// The limits' values alone, without the rules that apply them: config.ts reads them at start-up,
// before graphql and the schema have loaded.

/** What one operation may ask for: bounded work per request (see README, "Security"). */
export type Limits = {
  /** Nesting of fields, fragments flattened. */
  readonly maxDepth: number;
  /** Aliased fields, `__typename` included. */
  readonly maxAliases: number;
  /** Lexical tokens of the whole document. */
  readonly maxTokens: number;
  /** Brackets, braces and parentheses nested in the document (deep literals). */
  readonly maxNesting: number;
  /**
   * The estimated number of values an operation answers: every list weighs as many as its `first`
   * asks for, a JSON value (an event's `data` or `metadata`) weighs `jsonWeight`.
   */
  readonly maxCost: number;
  /** Bytes of one answer's `data`, as JSON: a larger answer is replaced by RESPONSE_TOO_LARGE. */
  readonly maxResponseBytes: number;
};

export const defaultLimits: Limits = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5_000,
  maxNesting: 32,
  maxCost: 20_000,
  maxResponseBytes: 4 * 1024 * 1024,
};
