import { MemoryStore } from '../../src/keep/memory.js';
import type { Store } from '../../src/keep/types.js';
import { testStore } from './conformance.js';

testStore('memory', {
  create: async () => new MemoryStore(),
  destroy: (store) => store.close(),
});

/** The four required methods only, as a ledger-only driver would be: capability tests skip. */
function ledgerOnly(inner: Store): Store {
  return {
    name: 'memory (ledger only)',
    capabilities: { budgets: false, rateLimits: false, alerts: false, persistent: false },
    append: (records) => inner.append(records),
    query: (options) => inner.query(options),
    summarize: (options) => inner.summarize(options),
    close: () => inner.close(),
  };
}

testStore('memory (ledger only)', {
  create: async () => ledgerOnly(new MemoryStore()),
  destroy: (store) => store.close(),
});
