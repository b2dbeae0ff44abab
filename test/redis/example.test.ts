import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { expect, it } from 'vitest';
import { createRedisStore } from '../../src/redis/index.js';
import { startRedisCluster } from '../support/redis-server.js';
import { describeRedis, useRedisServer } from './support.js';

const root = resolve(import.meta.dirname, '../..');

/** Runs examples/redis.ts as a user would, in a scratch directory. */
function runExample(env: Record<string, string>) {
  return promisify(execFile)(
    join(root, 'node_modules/.bin/tsx'),
    ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/redis.ts')],
    {
      cwd: mkdtempSync(join(tmpdir(), 'tollgate-example-')),
      env: { ...process.env, ...env },
      timeout: 60_000,
    },
  );
}

it('examples/redis.ts without REDIS_URL explains how to start a server and exits 0', async () => {
  const { stdout } = await runExample({ REDIS_URL: '' });
  expect(stdout).toContain('redis-server --port 6379');
});

describeRedis('examples/redis.ts against a real server', () => {
  const server = useRedisServer();
  it('shares a budget, fires the alert once, rate-limits, and cleans up its keys', async () => {
    const { stdout } = await runExample({ REDIS_URL: server().url });
    expect(stdout).toMatch(/call-1: allowed/);
    expect(stdout).toMatch(/call-3: refused, \$0\.0032 of \$0\.004 used/);
    expect(stdout.match(/alert: 80% spent/g)).toHaveLength(1);
    expect(stdout).toMatch(/request 4: wait \d+ ms/);
    const check = await createRedisStore({ url: server().url });
    expect(await check.client.dbsize()).toBe(0);
    await check.close();
  });
});

describeRedis('examples/redis.ts against a real Redis Cluster', () => {
  it('runs the same on three masters with a hash-tagged prefix, and cleans up', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    try {
      const { stdout } = await runExample({
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: cluster.urls.join(','),
      });
      expect(stdout).toMatch(/call-3: refused, \$0\.0032 of \$0\.004 used/);
      expect(stdout.match(/alert: 80% spent/g)).toHaveLength(1);
      expect(stdout).toMatch(/request 4: wait \d+ ms/);
      const check = await createRedisStore({ clusterNodes: [...cluster.urls] });
      const sizes = await Promise.all(
        (check.client as Cluster).nodes('master').map((node) => node.dbsize()),
      );
      expect(sizes).toEqual([0, 0, 0]);
      await check.close();
    } finally {
      await cluster.dispose();
    }
  }, 60_000);
});
