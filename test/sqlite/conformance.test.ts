import { join } from 'node:path';
import { SqliteStore } from '../../src/sqlite/index.js';
import { testStore } from '../keep/conformance.js';
import { tempDir } from './support.js';

const folders = new Map<SqliteStore, () => void>();

testStore('sqlite (file, WAL)', {
  create: async () => {
    const { dir, remove } = tempDir();
    const store = new SqliteStore({ path: join(dir, 'ledger.db') });
    folders.set(store, remove);
    return store;
  },
  destroy: async (store) => {
    await store.close();
    folders.get(store as SqliteStore)?.();
    folders.delete(store as SqliteStore);
  },
});

testStore('sqlite (:memory:)', {
  create: async () => new SqliteStore({ path: ':memory:' }),
  destroy: (store) => store.close(),
});
