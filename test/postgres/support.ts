/**
 * One real PostgreSQL server per test file (the harness in test/support), a fresh schema per
 * store, and `describePostgres`, which skips with a notice where Postgres is not installed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../../src/postgres/index.js';
import {
  hasPostgres,
  type PostgresServer,
  type PostgresServerOptions,
  startPostgresServer,
  warnNoPostgres,
} from '../support/postgres-server.js';

warnNoPostgres();

export const describePostgres = hasPostgres ? describe : describe.skip;

let schemas = 0;

/** A schema name no other store in this run uses. */
export function freshSchema(): string {
  return `t${process.pid}_${++schemas}`;
}

/** Starts a server before the file's tests and stops it after; `server()` is it. */
export function usePostgresServer(options: PostgresServerOptions = {}): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgresServer(options);
  });
  afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('the Postgres server did not start');
    return server;
  };
}

/** A store on `server` in a fresh schema. */
export function openStore(
  server: PostgresServer,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  return createPostgresStore({ connectionString: server.url, schema: freshSchema(), ...options });
}

/** Closes the store and drops its schema. */
export async function dropStore(server: PostgresServer, store: PostgresStore): Promise<void> {
  await store.close();
  await sql(server, `DROP SCHEMA IF EXISTS ${store.schema} CASCADE`);
}

/** Runs one statement on a connection of its own and returns its rows. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  server: PostgresServer,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}
