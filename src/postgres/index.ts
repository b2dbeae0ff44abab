/**
 * `tollgate/postgres`: the shared ledger for fleets, on PostgreSQL (node-postgres `pg`, an
 * optional peer dependency loaded only when a store is created). Every worker appends to one
 * ledger; budgets, rate limits and alerts are shared through it; the server and CLI read it.
 *
 * @example
 * import { TokenTracker } from 'tollgate';
 * import { createPostgresStore } from 'tollgate/postgres';
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL });
 * const tracker = new TokenTracker({ store });
 */
export { monthLabel, monthOf, PARTITIONED } from './partitions.js';
export { parseRetention } from './retention.js';
export { insertSql, RECORD_INSERT_COLUMNS, rollupsFromRecordsSql } from './rows.js';
export {
  MIGRATIONS,
  type Migration,
  migrate,
  rebuildDerivedRollupsSql,
  SCHEMA_VERSION,
  schemaVersion,
} from './schema.js';
export { createPostgresStore, PostgresStore, type PostgresStoreOptions } from './store.js';
export { planSummary, type SummaryPart, type SummaryPlan } from './summary.js';
export { isPostgresUrl, maskedUrl } from './url.js';
