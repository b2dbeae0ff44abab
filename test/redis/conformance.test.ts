import { testStore } from '../keep/conformance.js';
import { describeRedis, openStore, useRedisServer } from './support.js';

describeRedis('RedisStore against a real redis-server', () => {
  const server = useRedisServer();
  testStore('redis', {
    create: () => openStore(server()),
    // A fresh prefix per test isolates it; flushing keeps the server small between tests.
    destroy: async (store) => {
      const redis = store as Awaited<ReturnType<typeof openStore>>;
      await redis.client.flushdb();
      await redis.close();
    },
  });
});
