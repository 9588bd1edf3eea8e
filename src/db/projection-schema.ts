import { pgSchema } from 'drizzle-orm/pg-core';

/** Read models live in their own schema, apart from the event store's `es`. */
export const projection = pgSchema('projection');
