// A module of its own so that config.ts reads it without loading the relay (pg-listen, Drizzle).

/** While doorbells keep ringing, the relay's reads start at least this far apart (`CAIRN_RELAY_READ_GAP_MS`). */
export const defaultReadGapMs = 5;
