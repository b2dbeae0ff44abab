/**
 * The gateway on each shared ledger a fleet runs: Redis and Postgres (SQLite is the default of
 * every other proxy test). Real servers on loopback; calls recorded with their attribution and
 * budgets settled to the femto-dollar on the same store.
 */
import { GoogleGenAI } from '@google/genai';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/keep/types.js';
import { createPostgresStore } from '../../src/postgres/index.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { createRedisStore } from '../../src/redis/index.js';
import {
  hasPostgres,
  type PostgresServer,
  startPostgresServer,
  warnNoPostgres,
} from '../support/postgres-server.js';
import {
  hasRedisServer,
  type RedisServer,
  startRedisServer,
  warnNoRedisServer,
} from '../support/redis-server.js';
import { type Gateway, startGateway } from './support.js';

if (!hasRedisServer) warnNoRedisServer();
if (!hasPostgres) warnNoPostgres();

const servers: (RedisServer | PostgresServer)[] = [];
afterAll(async () => {
  for (const server of servers) await server.dispose();
});

async function exercise(store: Store): Promise<void> {
  const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: 1 });
  let gateway: Gateway | undefined;
  try {
    gateway = await startGateway({ store, proxy: { budgets }, standIn: { serviceTier: 'flex' } });
    const ai = new GoogleGenAI({ apiKey: gateway.key, httpOptions: { baseUrl: gateway.url } });
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'One' });
    for await (const _ of await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'Two',
    })) {
      // read to the end
    }
    await gateway.proxy.flush();
    const { records } = await store.query({ limit: 100, userId: 'alice' });
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record).toMatchObject({
        agent: 'proxy',
        tenantId: 'acme',
        model: 'gemini-2.5-flash',
        provider: 'google',
        serviceTier: 'flex',
      });
      expect(record.metadata).toMatchObject({ source: 'proxy', key: gateway.record.id });
    }
    const { today } = await budgets.getUserStats('alice');
    const [counter] = (await store.counters?.([today.key], Date.now())) ?? [];
    expect(counter?.reservedFemto).toBe(0n);
    expect(counter?.settledFemto).toBe(records.reduce((sum, r) => sum + r.costFemto, 0n));
  } finally {
    await gateway?.stop();
  }
}

describe.skipIf(!hasRedisServer)('on a Redis ledger', () => {
  it('records and settles', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const store = await createRedisStore({ url: server.url });
    try {
      await exercise(store);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe.skipIf(!hasPostgres)('on a Postgres ledger', () => {
  it('records and settles', async () => {
    const server = await startPostgresServer();
    servers.push(server);
    const store = await createPostgresStore({ connectionString: server.url });
    try {
      await exercise(store);
    } finally {
      await store.close();
    }
  }, 120_000);
});
