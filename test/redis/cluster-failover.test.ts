/**
 * `RedisStore` through a failover: a real Redis Cluster of three masters, each with a replica
 * (six redis-server processes started by the test). When a master crashes its replica is
 * promoted, and when an operator moves a master (CLUSTER FAILOVER) the two swap. Either way the
 * store must fail fast while the slot has no master, then carry on by itself with every settled
 * cent, every record and every budget intact.
 */
import { type Cluster, Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { usdToFemto } from '../../src/price/money.js';
import { createRedisStore, type RedisStore, StoreUnavailableError } from '../../src/redis/index.js';
import { ledgerRecord } from '../keep/fixtures.js';
import type { RedisServer } from '../support/redis-server.js';
import {
  describeRedis,
  hardDollar,
  masterPortOf,
  taggedPrefix,
  useRedisCluster,
} from './support.js';

/** Runs `command` on the node at `port` alone (not through the cluster's routing). */
async function onNode<T>(port: number, command: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return await command(node);
  } finally {
    node.disconnect();
  }
}

/** `master` or `slave`, as the node at `port` sees itself. */
const roleOf = (port: number) =>
  onNode(port, async (node) => String(((await node.call('ROLE')) as unknown[])[0]));

/** True when the node at `port` is a replica whose link to its master is up (in sync). */
const inSync = (port: number) =>
  onNode(port, async (node) => (await node.info('replication')).includes('master_link_status:up'));

/** The port of the replica of the master at `port`, once that replica is in sync. */
async function replicaPortOf(port: number): Promise<number> {
  return until('the master has a replica in sync', async () => {
    const info = await onNode(port, (node) => node.info('replication'));
    const replica = Number(/^slave\d+:.*port=(\d+),state=online/m.exec(info)?.[1]);
    if (!replica || !(await inSync(replica))) throw new StoreUnavailableError('redis', 'sync');
    return replica;
  });
}

/**
 * Retries `attempt` while it fails with `StoreUnavailableError` (the only failure a store may
 * show while a slot has no master), for up to 30 s. Anything else fails the test at once.
 */
async function until<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) {
        throw new Error(`${what}: ${String(error)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describeRedis('RedisStore on a Redis Cluster with replicas: failover', () => {
  const cluster = useRedisCluster({ masters: 3, replicas: true, nodeTimeoutMs: 1_000 });
  const open = (prefix: string) =>
    createRedisStore({ clusterNodes: [...cluster().urls], prefix, maxRetryDelayMs: 50 });
  const nodeAt = (port: number | undefined): RedisServer => {
    const node = cluster().nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  };
  const reserve = (store: RedisStore, callId: string, usd: number, now: number, key: string) =>
    store.reserve({
      callId,
      amountFemto: usdToFemto(usd),
      holdUntil: now + 60_000,
      now,
      counters: [hardDollar(key, now)],
    });

  it('a master crashes: its replica takes over, and the store goes on with every settled cent', async () => {
    const prefix = taggedPrefix();
    const store = await open(prefix);
    const now = Date.now();
    const key = 'user:alice:day:2026-11-23@UTC';
    const counter = hardDollar(key, now);
    let downed: RedisServer | undefined; // brought back in `finally` if the test fails midway
    try {
      const masterPort = await masterPortOf(store.client as Cluster, prefix);
      const master = nodeAt(masterPort);
      const replicaPort = await replicaPortOf(master.port);
      for (let i = 0; i < 3; i++) {
        expect((await reserve(store, `crash-${i}`, 0.1, now, key)).ok).toBe(true);
        await store.settle(`crash-${i}`, usdToFemto(0.1), [counter], now);
      }
      const records = [0, 1, 2].map((i) =>
        ledgerRecord({ id: `crash-${i}`, callId: `crash-${i}`, sessionId: prefix, timestamp: now }),
      );
      expect(await store.append(records)).toBe(3);
      // Replication is asynchronous: a write in the last instant before a crash can be lost
      // (see the README). WAIT makes this test about the failover, not about that window.
      expect(await onNode(master.port, (node) => node.call('WAIT', 1, 5_000))).toBe(1);

      downed = master;
      await master.kill();
      const [state] = await until('the counter after the failover', () =>
        store.counters([key], Date.now()),
      );
      expect(await roleOf(replicaPort)).toBe('master');
      expect(state?.settledFemto).toBe(usdToFemto(0.3));
      expect(state?.reservedFemto).toBe(0n);
      const page = await store.query({ sessionId: prefix });
      expect(page.records.map((record) => record.callId).sort()).toEqual([
        'crash-0',
        'crash-1',
        'crash-2',
      ]);
      // The budget still holds on the new master: $0.80 does not fit in what is left, $0.70 does.
      expect((await reserve(store, 'after-1', 0.8, now, key)).ok).toBe(false);
      expect((await reserve(store, 'after-2', 0.7, now, key)).ok).toBe(true);

      // The old master comes back as a replica of the new one.
      await master.restart();
      downed = undefined;
      await until('the old master rejoins as a replica in sync', async () => {
        if (!(await inSync(master.port))) throw new StoreUnavailableError('redis', 'sync');
      });
      expect(await roleOf(master.port)).toBe('slave');
    } finally {
      await store.close();
      await downed?.restart();
    }
  }, 90_000);

  it('a planned failover while 4 clients race for a hard budget: exactly the limit is admitted', async () => {
    const prefix = taggedPrefix();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(prefix)));
    const now = Date.now();
    const key = 'global:day:2026-11-23@UTC';
    const outcomes = { admitted: 0, refused: 0, unavailable: 0 };
    let calls = 0;
    const attempt = async (store: RedisStore) => {
      try {
        const answer = await reserve(store, `race-${++calls}`, 0.05, now, key);
        outcomes[answer.ok ? 'admitted' : 'refused'] += 1;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        outcomes.unavailable += 1;
      }
    };
    try {
      const first = stores[0] as RedisStore;
      const masterPort = (await masterPortOf(first.client as Cluster, prefix)) as number;
      const replicaPort = await replicaPortOf(masterPort);
      // $0.40 admitted before the failover.
      for (const store of stores) for (let i = 0; i < 2; i++) await attempt(store);
      expect(outcomes.admitted).toBe(8);

      const failover = (async () => {
        expect(await onNode(replicaPort, (node) => node.call('CLUSTER', 'FAILOVER'))).toBe('OK');
        await until('the replica is promoted', async () => {
          if ((await roleOf(replicaPort)) !== 'master') {
            throw new StoreUnavailableError('redis', 'role');
          }
        });
      })();
      // Every client reserves twice as the switch begins, then, once it is done, 10 more times.
      await Promise.all(stores.map(async (store) => Promise.all([attempt(store), attempt(store)])));
      await failover;
      const admittedBefore = outcomes.admitted;
      await Promise.all(
        stores.map(async (store) => {
          for (let i = 0; i < 10; i++) await attempt(store);
        }),
      );

      // 20 × $0.05 fit in $1: every reservation answered "ok" is on the counter, and no more.
      expect(outcomes.admitted).toBe(20);
      expect(admittedBefore).toBeLessThan(20); // the new master admitted some of them
      expect(outcomes.refused).toBeGreaterThan(0);
      const [state] = await first.counters([key], Date.now());
      expect(state?.reservedFemto).toBe(usdToFemto(1));
      // Other nodes learn of the promotion by gossip: their slot map converges to it.
      await until('every node reports the promoted replica as master', async () => {
        if ((await masterPortOf(first.client as Cluster, prefix)) !== replicaPort) {
          throw new StoreUnavailableError('redis', 'slots');
        }
      });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 90_000);
});
