/**
 * Issue 13 the way it was found: the real server over loopback, a real SQLite ledger of 3,000
 * calls, a viewer scoped to one tenant cycling through every IANA time zone over the widest
 * range, and an unscoped viewer cycling through tenants, for a fixed number of requests. What
 * the server keeps stays within its documented bounds, by the caches' own accounting and by the
 * process's heap after a full GC (with a generous margin); the per-credential limit answers 429
 * with Retry-After. No timing is asserted (latency is the benchmark's: bench/server-exhaustion).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/keep/types.js';
import { createApiKey, createHandler, type Handler, serve } from '../../src/server/index.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';

const DAY = 86_400_000;
const MIB = 1_048_576;
const CALLS = 3_000;
const TENANTS = 40;
/** The documented defaults the bounds are checked against. */
const ROLLUP_MAX_BYTES = 64 * MIB;
const CACHE_MAX_BYTES = 16 * MIB;
const MAX_DAYS = 366;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-exhaustion-'));
let store: SqliteStore;
const end = Date.now();

function ledger(): LedgerRecord[] {
  return Array.from({ length: CALLS }, (_, i) => ({
    id: `x-${i}`,
    callId: `x-call-${i}`,
    timestamp: end - DAY - Math.floor((i / CALLS) * 120 * DAY),
    sessionId: `s-${i % 50}`,
    agent: ['planner', 'researcher', 'coder'][i % 3] as string,
    model: ['gemini-2.5-flash', 'gemini-2.5-pro'][i % 2] as string,
    provider: 'google',
    userId: `user-${i % 70}`,
    tenantId: `tenant-${i % TENANTS}`,
    inputTokens: 1_000 + i,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 100,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 1_100 + i,
    priced: true,
    costFemto: BigInt(1_000_000_000_000 + i),
  }));
}

beforeAll(async () => {
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  await store.append(ledger());
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = {
  scoped: createApiKey('viewer', 'tenant-0'),
  unscoped: createApiKey('viewer'),
  other: createApiKey('viewer'),
};

async function serving(handler: Handler, run: (get: Get) => Promise<void>): Promise<void> {
  const running = await serve(handler, { port: 0 });
  try {
    await run(async (path, key) => {
      const res = await fetch(`${running.url}${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const body = (await res.json()) as { error?: { code: string; message: string } };
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
    });
  } finally {
    await running.close();
  }
}

type Get = (
  path: string,
  key: string,
) => Promise<{
  status: number;
  retryAfter: string | null;
  body: { error?: { code: string; message: string } };
}>;

const handlerWith = (limits: Parameters<typeof createHandler>[0]['limits']) =>
  createHandler({
    store,
    auth: { apiKeys: Object.values(keys).map((k) => k.record) },
    limits,
    onError: () => {},
  });

describe('one caller cannot exhaust the server', () => {
  it('every IANA zone and many tenants over the widest range: memory stays within the documented bounds', async () => {
    // No request limit here: every request is served, so the caches' bounds are what holds.
    const handler = handlerWith({ requestsPerMinute: false });
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(300);
    const before = heapAfterGc();
    let most = 0;
    await serving(handler, async (get) => {
      // Wider than the bound: refused at once, before any work.
      const wide = await get('/api/usage/summary?days=3650&tz=Africa/Abidjan', keys.scoped.key);
      expect(wide.status).toBe(400);
      expect(wide.body.error?.message).toBe(
        `days: must be at most ${MAX_DAYS} (the longest range this server answers)`,
      );
      const statuses = new Map<number, number>();
      const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
      for (const [i, zone] of zones.entries()) {
        const tz = encodeURIComponent(zone);
        count((await get(`/api/usage/summary?days=${MAX_DAYS}&tz=${tz}`, keys.scoped.key)).status);
        const tenant = `tenant-${i % (TENANTS * 5)}`; // a fifth exist, the rest are empty
        const path = `/api/usage/summary?days=${MAX_DAYS - (i % 7)}&tenant=${tenant}&tz=${tz}`;
        count((await get(path, keys.unscoped.key)).status);
        if (i % 25 === 0) {
          const stats = handler.stats();
          most = Math.max(most, stats.rollup?.bytes ?? 0);
          expect(stats.rollup?.bytes).toBeLessThanOrEqual(ROLLUP_MAX_BYTES);
          expect(stats.cache.bytes).toBeLessThanOrEqual(CACHE_MAX_BYTES);
        }
      }
      expect([...statuses]).toEqual([[200, 2 * zones.length]]);
      // The other caller still gets its answer.
      expect((await get('/api/usage/summary?days=30', keys.other.key)).status).toBe(200);
    });
    const stats = handler.stats();
    expect(stats.rollup?.bytes).toBeLessThanOrEqual(ROLLUP_MAX_BYTES);
    expect(stats.rollup?.series).toBeLessThanOrEqual(512);
    expect(stats.cache.entries).toBeLessThanOrEqual(1_000);
    expect(stats.cache.bytes).toBeLessThanOrEqual(CACHE_MAX_BYTES);
    const growth = heapAfterGc() - before;
    console.log(
      `exhaustion: ${zones.length * 2} requests, heap +${(growth / MIB).toFixed(1)} MiB, rollup ${((stats.rollup?.bytes ?? 0) / MIB).toFixed(1)} MiB in ${stats.rollup?.series} series (most ${(most / MIB).toFixed(1)}), cache ${(stats.cache.bytes / MIB).toFixed(1)} MiB in ${stats.cache.entries}`,
    );
    // The caches' accounting is not an underestimate: the heap holds no more than about it.
    expect(growth).toBeLessThanOrEqual(
      1.5 * ((stats.rollup?.bytes ?? 0) + stats.cache.bytes) + 16 * MIB,
    );
    expect(growth).toBeLessThanOrEqual(ROLLUP_MAX_BYTES + CACHE_MAX_BYTES + 16 * MIB);
  }, 300_000);

  it('with the default request limit, an attacker gets 429 with Retry-After; other callers do not', async () => {
    const handler = handlerWith(undefined);
    await serving(handler, async (get) => {
      // All at once, as a flood: the requests are counted when they arrive.
      const zones = Intl.supportedValuesOf('timeZone').slice(0, 150);
      const answers = await Promise.all(
        zones.map((zone) =>
          get(
            `/api/usage/summary?days=${MAX_DAYS}&tz=${encodeURIComponent(zone)}`,
            keys.scoped.key,
          ),
        ),
      );
      const refused = answers.filter((answer) => answer.status === 429);
      // Under the flood, what is let through may run out of store time: 503 store_timeout.
      for (const answer of answers) {
        expect([200, 429, 503]).toContain(answer.status);
        if (answer.status === 503) expect(answer.body.error?.code).toBe('store_timeout');
      }
      // A burst of 60 passes, then the pace is 300 a minute (5 a second).
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThanOrEqual(150 - 60);
      for (const answer of refused) {
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(answer.body.error?.code).toBe('rate_limited');
      }
      expect((await get('/api/usage/summary?days=30', keys.other.key)).status).toBe(200);
      expect(
        (await get('/api/usage/summary?days=30&tenant=tenant-3', keys.unscoped.key)).status,
      ).toBe(200);
    });
  }, 120_000);
});
