/**
 * Migration race child: waits for a shared start time, then migrates `schema` on its own
 * connection and prints the versions it applied as JSON.
 * Usage: node --import tsx test/postgres/workers/migrate.ts <url> <schema> <startAt>
 */
import pg from 'pg';
import { migrate } from '../../../src/postgres/index.js';

const [url, schema, startAt] = process.argv.slice(2) as [string, string, string];
const client = new pg.Client({ connectionString: url });
await client.connect();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const applied = await migrate(client as unknown as pg.PoolClient, `"${schema}"`);
await client.end();
process.stdout.write(JSON.stringify(applied));
