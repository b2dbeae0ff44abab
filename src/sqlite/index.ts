/**
 * `tollgate/sqlite`: the embedded ledger (better-sqlite3). Only this subpath loads the driver.
 *
 * @example
 * import { TokenTracker } from 'tollgate';
 * import { createSqliteStore } from 'tollgate/sqlite';
 * const tracker = new TokenTracker({ store: createSqliteStore() });
 */
export { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from './store.js';
