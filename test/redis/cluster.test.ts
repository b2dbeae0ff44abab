/**
 * `RedisStore` on a real Redis Cluster: three redis-server masters started by the test, the
 * slots split between them. The whole store conformance suite runs against it, plus what only a
 * cluster has: the hash-tag rule for prefixes, stores whose tags live on different masters, and
 * a master going down.
 */
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { usdToFemto } from '../../src/price/money.js';
import { createRedisStore, type RedisStore, StoreUnavailableError } from '../../src/redis/index.js';
import { testStore } from '../keep/conformance.js';
import { ledgerRecord } from '../keep/fixtures.js';
import { startRedisServer } from '../support/redis-server.js';
import {
  describeRedis,
  hardDollar,
  masterPortOf,
  taggedPrefix,
  useRedisCluster,
} from './support.js';

async function flushAll(store: RedisStore): Promise<void> {
  await Promise.all((store.client as Cluster).nodes('master').map((node) => node.flushdb()));
}

describeRedis('RedisStore on a real Redis Cluster (3 masters)', () => {
  const cluster = useRedisCluster({ masters: 3 });
  const urls = () => [...cluster().urls];
  const open = (prefix = taggedPrefix()) =>
    createRedisStore({ clusterNodes: urls(), prefix, maxRetryDelayMs: 50 });

  testStore('redis cluster', {
    create: () => open(),
    destroy: async (store) => {
      await flushAll(store as RedisStore);
      await store.close();
    },
  });

  describe('cluster rules', () => {
    it('refuses a prefix without a hash tag, before connecting', async () => {
      for (const prefix of ['tollgate:', '{}tollgate:', 'tollgate}{:']) {
        await expect(open(prefix)).rejects.toThrow(ConfigurationError);
        await expect(open(prefix)).rejects.toThrow(/hash tag/);
      }
    });

    it('defaults to the {tollgate}: prefix on a cluster, and refuses two ways to connect', async () => {
      const store = await createRedisStore({ clusterNodes: urls(), maxRetryDelayMs: 50 });
      try {
        expect(store.keys.prefix).toBe('{tollgate}:');
        await expect(
          createRedisStore({ clusterNodes: urls(), url: 'redis://127.0.0.1:1' }),
        ).rejects.toThrow(/one of url, client or clusterNodes/);
        await expect(createRedisStore({ client: store.client, prefix: 'plain:' })).rejects.toThrow(
          /hash tag/,
        );
      } finally {
        await store.close();
      }
    });

    it('gives up on nodes that answer but serve no slots, instead of waiting for ever', async () => {
      // A cluster node that was never given slots: what a client meets while a cluster forms.
      const lone = await startRedisServer({
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      });
      try {
        const attempt = createRedisStore({ clusterNodes: [lone.url], connectTimeoutMs: 500 });
        await expect(attempt).rejects.toThrow(StoreUnavailableError);
        await expect(attempt).rejects.toThrow(/no usable connection within 500 ms/);
      } finally {
        await lone.dispose();
      }
    });

    it('refuses node addresses that are not redis://host:port URLs', async () => {
      const bad: unknown[] = [
        ['127.0.0.1:7000'],
        ['http://127.0.0.1:7000'],
        ['redis://127.0.0.1'],
        [7000],
        [],
        'redis://127.0.0.1:7000',
      ];
      for (const clusterNodes of bad) {
        await expect(createRedisStore({ clusterNodes: clusterNodes as string[] })).rejects.toThrow(
          ConfigurationError,
        );
      }
    });

    it("keeps all of a store's keys on one master, and stores on different masters apart", async () => {
      // Find two tags whose slots belong to different masters.
      const first = await open();
      const client = first.client as Cluster;
      const ownerOf = (prefix: string) => masterPortOf(client, prefix);
      let second: RedisStore | undefined;
      try {
        for (let i = 0; i < 50 && !second; i++) {
          const prefix = taggedPrefix();
          if ((await ownerOf(prefix)) !== (await ownerOf(first.keys.prefix))) {
            second = await open(prefix);
          }
        }
        if (!second) throw new Error('no tag found on another master');
        const now = Date.now();
        const counter = hardDollar('user:alice:day:2026-11-23@UTC', now);
        for (const [store, usd] of [
          [first, 0.25],
          [second, 0.75],
        ] as const) {
          const answer = await store.reserve({
            callId: `call-${store.keys.prefix}`,
            amountFemto: usdToFemto(usd),
            holdUntil: now + 60_000,
            now,
            counters: [counter],
          });
          expect(answer.ok).toBe(true);
          await store.settle(`call-${store.keys.prefix}`, usdToFemto(usd), [counter], now);
        }
        // Same counter name, separate stores: each sees its own spend only.
        expect((await first.counters([counter.key], now))[0]?.settledFemto).toBe(usdToFemto(0.25));
        expect((await second.counters([counter.key], now))[0]?.settledFemto).toBe(usdToFemto(0.75));
        // Every key each store wrote sits on its own tag's master.
        const masters = client.nodes('master');
        const holding = async (prefix: string) => {
          const counts = await Promise.all(
            masters.map(async (node) => (await node.keys(`${prefix}*`)).length),
          );
          return counts.filter((count) => count > 0).length;
        };
        expect(await holding(first.keys.prefix)).toBe(1);
        expect(await holding(second.keys.prefix)).toBe(1);
      } finally {
        await second?.close();
        await first.close();
      }
    });

    it('holds a hard budget under 40 concurrent reservations from 4 clients', async () => {
      const prefix = taggedPrefix();
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(prefix)));
      try {
        const now = Date.now();
        const counter = hardDollar('global:day:2026-11-23@UTC', now);
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (stores[i % stores.length] as RedisStore).reserve({
              callId: `race-${i}`,
              amountFemto: usdToFemto(0.1),
              holdUntil: now + 60_000,
              now,
              counters: [counter],
            }),
          ),
        );
        expect(answers.filter((answer) => answer.ok)).toHaveLength(10);
        const [state] = await (stores[0] as RedisStore).counters([counter.key], now);
        expect(state?.reservedFemto).toBe(usdToFemto(1));
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('fails fast with StoreUnavailableError while its master is down, and recovers', async () => {
      const store = await open();
      const port = await masterPortOf(store.client as Cluster, store.keys.prefix);
      const master = cluster().nodes.find((node) => node.port === port);
      if (!master) throw new Error('no master for the slot');
      const record = (callId: string) =>
        ledgerRecord({ id: callId, callId, timestamp: Date.now() });
      try {
        expect(await store.append([record('before')])).toBe(1);
        await master.stop();
        // Fails, rather than waiting on a master that is gone (the test's timeout would catch a hang).
        await expect(store.append([record('during')])).rejects.toThrow(StoreUnavailableError);
        await master.restart(); // its nodes.conf brings it back into the cluster
        const deadline = Date.now() + 20_000;
        for (;;) {
          try {
            expect(await store.append([record('after')])).toBe(1);
            break;
          } catch (error) {
            if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        await store.close();
      }
    }, 40_000);
  });
});
