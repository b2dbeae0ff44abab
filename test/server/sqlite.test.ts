/** The API over a real SqliteStore answers exactly what it answers over a MemoryStore. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { call, fixture, seedRecords } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READS = [
  'GET /api/usage/summary?days=30',
  'GET /api/usage/summary?days=2&tz=America%2FNew_York',
  'GET /api/usage/users/alice?days=30',
  'GET /api/usage/users/bob?days=7',
  'GET /api/usage/by-model?days=30',
  'GET /api/usage/by-agent?days=3',
  'GET /api/usage/threads/t-a',
  'GET /api/usage/records?days=30&limit=5',
  'GET /api/usage/records?days=30&order=asc&userId=bob',
];

describe('SqliteStore behind the API', () => {
  it('same answers as the memory store, for every read and every tenant', async () => {
    const records = seedRecords();
    const sqlite = createSqliteStore({ path: join(dir, 'ledger.db') });
    const memory = new MemoryStore();
    await sqlite.append(records);
    await memory.append(records);
    const onSqlite = await fixture({ store: sqlite });
    const onMemory = await fixture({ store: memory });
    try {
      for (const line of READS) {
        for (const who of ['admin', 'acmeViewer'] as const) {
          const a = await call(onSqlite.handler, line, { key: onSqlite.keys[who] });
          const b = await call(onMemory.handler, line, { key: onMemory.keys[who] });
          expect(a.status, `${who} ${line}`).toBe(b.status);
          // Cursors are each store's own: compare everything else.
          const strip = (body: { nextCursor?: unknown }) => ({
            ...body,
            nextCursor: !!body.nextCursor,
          });
          expect(strip(a.body), `${who} ${line}`).toEqual(strip(b.body));
        }
      }
      const first = await call(onSqlite.handler, 'GET /api/usage/records?days=30&limit=5', {
        key: onSqlite.keys.admin,
      });
      const second = await call(
        onSqlite.handler,
        `GET /api/usage/records?days=30&limit=5&cursor=${first.body.nextCursor}`,
        { key: onSqlite.keys.admin },
      );
      expect(second.body.records).toHaveLength(5);
      const bad = await call(onSqlite.handler, 'GET /api/usage/records?cursor=Zm9v', {
        key: onSqlite.keys.admin,
      });
      expect(bad.status).toBe(400);
    } finally {
      await sqlite.close();
    }
  });
});
