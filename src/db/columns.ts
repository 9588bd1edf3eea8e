import { customType } from 'drizzle-orm/pg-core';

/**
 * A KSUID-based id column compared byte by byte (`collate "C"`), so that listing by id gives
 * KSUID order whatever the database's default collation (`en_US` would fold case).
 */
export const idColumn = customType<{ data: string; driverData: string }>({
  dataType: () => 'text collate "C"',
});
