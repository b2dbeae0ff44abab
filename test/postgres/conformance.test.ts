import type { PostgresStore } from '../../src/postgres/index.js';
import { testStore } from '../keep/conformance.js';
import { describePostgres, dropStore, openStore, usePostgresServer } from './support.js';

describePostgres('PostgresStore against a real PostgreSQL server', () => {
  const server = usePostgresServer();
  testStore('postgres', {
    create: () => openStore(server()),
    destroy: (store) => dropStore(server(), store as PostgresStore),
  });
});
