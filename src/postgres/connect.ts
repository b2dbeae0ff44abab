/**
 * node-postgres, loaded on first use (an optional peer dependency, as ioredis is for
 * `tollgate/redis`), and the failures that mean "the database is out of reach": those become
 * `StoreUnavailableError`, everything else is a bug or bad input and is thrown as it is.
 */
import { createRequire } from 'node:module';
import type * as Pg from 'pg';
import {
  ConfigurationError,
  describe,
  peerLoadError,
  StoreUnavailableError,
  TollgateError,
} from '../errors.js';

export type PgModule = typeof Pg;
export type Pool = Pg.Pool;
export type PoolClient = Pg.PoolClient;
/** What the store runs queries on: a pool, or one of its clients inside a transaction. */
export type Queryable = Pick<Pg.Pool, 'query'>;

/** Loads `pg`, or says which package to install. */
export function loadPg(): PgModule {
  try {
    return createRequire(import.meta.url)('pg') as PgModule;
  } catch (error) {
    throw peerLoadError('tollgate/postgres', 'pg', error);
  }
}

/** Socket errors and SQLSTATE classes 08 (connection), 57P01-03 (shutdown, terminated). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);

/** True when `error` says the server or the connection is gone, not that the query is wrong. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) {
    return true;
  }
  return /Connection terminated|connection error|Client was closed|timeout exceeded when trying to connect|Cannot use a pool after calling end/i.test(
    error.message,
  );
}

/** SQLSTATE of a deadlock or a serialization failure: the transaction may simply run again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** Runs `step`, turning an unreachable database into `StoreUnavailableError`. */
export async function guard<T>(operation: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (TollgateError.isInstance(error)) throw error;
    if (isUnreachable(error))
      throw new StoreUnavailableError('postgres', operation, { cause: error });
    throw error;
  }
}

/**
 * Runs `work` in one transaction on one client of `pool` (READ COMMITTED: every check-and-write
 * takes advisory locks first). A deadlock or serialization failure rolls back everything and
 * runs `work` again; a broken connection is thrown away, not returned to the pool.
 */
export async function transaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    // A connection dropped between two statements is reported as an 'error' event (no query is
    // running to fail): unheard, that would end the process. The next statement then fails.
    const dropped = (error: Error) => {
      broken = error;
    };
    client.on('error', dropped);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isUnreachable(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch(() => {});
      if (isRetryable(error) && attempt < 5) continue;
      throw error;
    } finally {
      client.off('error', dropped);
      client.release(broken);
    }
  }
}

/** A schema name as an identifier: letters, digits and `_`, at most 63 bytes, quoted. */
export function schemaIdentifier(schema: unknown): string {
  if (typeof schema !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigurationError(
      `schema must be a name of letters, digits and _ (at most 63, not starting with a digit), got ${describe(schema)}`,
    );
  }
  return `"${schema}"`;
}
