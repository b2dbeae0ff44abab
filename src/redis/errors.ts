// The error moved to the core's family (the SQLite ledger throws it too); kept here so that
// imports from this module and from `tollgate/redis` go on working.
export { StoreUnavailableError } from '../errors.js';
