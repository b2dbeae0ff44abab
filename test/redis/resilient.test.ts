/**
 * createResilientStore with a real redis-server stopped in the middle of a run: tracking goes
 * on, records land in the local ledger, reserves fail open or closed as configured, and once
 * Redis is back everything queued is replayed, each call counted exactly once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { BudgetCounter, LedgerRecord } from '../../src/keep/types.js';
import { usdToFemto } from '../../src/price/money.js';
import {
  createResilientStore,
  type RedisStore,
  type ResilientEvent,
  type ResilientStore,
  StoreUnavailableError,
} from '../../src/redis/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { testStore } from '../keep/conformance.js';
import { ledgerRecord, ledgerRecords } from '../keep/fixtures.js';
import { describeRedis, freshPrefix, openStore, useRedisServer } from './support.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const user: BudgetCounter = {
  key: 'user:alice:day:2026-11-23@UTC',
  limitFemto: usdToFemto(100),
  hard: true,
  expiresAt: Date.UTC(2026, 10, 24),
};

describeRedis('createResilientStore: Redis stopped mid-run', () => {
  // AOF on: a restarted server comes back with its data, as a real outage would.
  const server = useRedisServer({ appendOnly: true });
  let redis: RedisStore;
  let store: ResilientStore;
  let events: ResilientEvent[];
  let ledger: { callId: string; actual: bigint }[];

  async function open(failMode: 'open' | 'closed') {
    redis = await openStore(server(), { commandTimeoutMs: 500 });
    events = [];
    ledger = [];
    store = createResilientStore({
      primary: redis,
      local: new MemoryStore(),
      failMode,
      retryIntervalMs: 25,
      onEvent: (event) => events.push(event),
    });
  }

  afterEach(async () => {
    await store.close();
  });

  /** One tracked call: reserve → (model call) → settle → append the record. */
  async function call(i: number) {
    const callId = `call-${i}`;
    const estimate = usdToFemto(0.01) + BigInt(i);
    const answer = await store.reserve({
      callId,
      amountFemto: estimate,
      counters: [user],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    if (!answer.ok) return answer;
    const actual = estimate - BigInt(i * 7_777);
    await store.settle(callId, actual, [user], NOW);
    await store.append([ledgerRecord({ callId, userId: 'alice', costFemto: actual })]);
    ledger.push({ callId, actual });
    return answer;
  }

  const sum = () => ledger.reduce((total, entry) => total + entry.actual, 0n);

  it('fail-open: keeps tracking, flags degraded reserves, replays exactly once', async () => {
    await open('open');
    for (let i = 0; i < 20; i++) expect(await call(i)).toEqual({ ok: true });

    await server().stop();
    for (let i = 20; i < 40; i++) {
      const started = performance.now();
      expect(await call(i)).toEqual({ ok: true, degraded: true });
      expect(performance.now() - started).toBeLessThan(600); // never hangs
    }
    expect(store.available).toBe(false);
    expect(store.pending).toBe(40); // 20 settles + 20 records
    expect((await store.query({ limit: 100 })).records).toHaveLength(40); // local ledger

    await server().restart();
    await vi.waitFor(() => expect(store.available).toBe(true), { timeout: 5_000, interval: 25 });
    expect(store.pending).toBe(0);
    for (let i = 40; i < 50; i++) expect(await call(i)).toEqual({ ok: true });

    // Redis holds every call once, and its counter equals the ledger to the femto-dollar.
    const [state] = await redis.counters([user.key], NOW);
    expect(state).toEqual({ key: user.key, settledFemto: sum(), reservedFemto: 0n });
    const kept = (await redis.query({ limit: 1_000 })).records;
    expect(kept.map((r) => r.callId).sort()).toEqual(ledger.map((e) => e.callId).sort());

    // Replaying again (a second outage, a restarted process) changes nothing.
    const local = (await store.query({ limit: 1_000 })).records;
    expect(await redis.append(local)).toBe(0);
    for (const entry of ledger) await redis.settle(entry.callId, entry.actual, [user], NOW);
    expect((await redis.counters([user.key], NOW))[0]?.settledFemto).toBe(sum());

    expect(events.filter((e) => e.type === 'unavailable')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'fail_open')).toHaveLength(20);
    expect(events.find((e) => e.type === 'recovered')).toMatchObject({ replayed: 40 });
  });

  it('fail-closed: refuses reserves and rate checks while down, still keeps every record', async () => {
    await open('closed');
    expect(await call(0)).toEqual({ ok: true });
    await server().stop();
    await expect(call(1)).rejects.toSatisfy(StoreUnavailableError.isInstance);
    await expect(
      store.consumeRate({ key: 'rpm', limit: 10, windowMs: 60_000, cost: 1, now: NOW }),
    ).rejects.toSatisfy(StoreUnavailableError.isInstance);
    await expect(store.counters([user.key], NOW)).rejects.toSatisfy(
      StoreUnavailableError.isInstance,
    );
    // A call already reserved before the outage still settles (queued) and is recorded.
    await store.settle('late', 123n, [user], NOW);
    const record: LedgerRecord = ledgerRecord({ callId: 'late', costFemto: 123n });
    expect(await store.append([record])).toBe(1);
    expect(store.pending).toBe(2);

    await server().restart();
    expect(
      await vi.waitFor(() => store.replay().then((done) => done || Promise.reject()), {
        timeout: 5_000,
        interval: 25,
      }),
    ).toBe(true);
    const [state] = await redis.counters([user.key], NOW);
    expect(state?.settledFemto).toBe(sum() + 123n);
    expect((await redis.query({ limit: 10 })).records.map((r) => r.callId)).toContain('late');
    expect(await call(2)).toEqual({ ok: true });
  });

  it('a reserve whose reply was lost in the outage frees itself: settle replaces it', async () => {
    await open('open');
    server().pause(); // the server hangs: the command times out, maybe after it ran
    const answer = await store.reserve({
      callId: 'lost',
      amountFemto: usdToFemto(1),
      counters: [user],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    server().resume();
    expect(answer).toEqual({ ok: true, degraded: true });
    await store.settle('lost', usdToFemto(0.4), [user], NOW);
    await vi.waitFor(() => expect(store.available).toBe(true), { timeout: 5_000, interval: 25 });
    expect(await redis.counters([user.key], NOW)).toEqual([
      { key: user.key, settledFemto: usdToFemto(0.4), reservedFemto: 0n },
    ]);
  });
});

describeRedis('a process that stopped during an outage: resync, or a journal', () => {
  const server = useRedisServer({ appendOnly: true });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-stopped-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('re-appends the records its lost queue held, from the local SQLite ledger, once', async () => {
    const path = join(dir, 'local.db');
    const prefix = freshPrefix(); // one shared ledger for both processes
    const events: ResilientEvent[] = [];
    const open = async () =>
      createResilientStore({
        primary: await openStore(server(), { commandTimeoutMs: 500, prefix }),
        local: createSqliteStore({ path }),
        retryIntervalMs: 60_000,
        onEvent: (event) => events.push(event),
      });
    const first = await open();
    const before = ledgerRecords(5, () => ({}), NOW); // a second apart
    await first.append(before);
    await server().stop();
    const during = ledgerRecords(30, () => ({}), NOW + 60_000);
    for (const record of during) await first.append([record]);
    expect(first.pending).toBeGreaterThan(0);
    await first.close(); // the process ends while Redis is down: its queue is gone
    expect(events.at(-1)).toMatchObject({ type: 'replay_dropped', dropped: 30 });

    await server().restart();
    const second = await open();
    const redis = await openStore(server(), { prefix });
    try {
      expect(second.pending).toBe(0);
      const held = async () => {
        const page = await redis.query({ limit: 1_000 });
        return page.records.map((r) => r.callId).sort();
      };
      expect(await held()).toHaveLength(5);
      const from = Math.min(...before.map((r) => r.timestamp));
      // A window wider than the outage is safe: the 5 records Redis holds are skipped.
      expect(await second.resync({ from })).toEqual({ scanned: 35, appended: 30 });
      expect(await held()).toEqual([...before, ...during].map((r) => r.callId).sort());
      expect(await second.resync({ from })).toEqual({ scanned: 35, appended: 0 });
      // A window: [from, to) of the timestamps.
      const to = Math.min(...during.map((r) => r.timestamp));
      expect(await second.resync({ from, to })).toEqual({ scanned: 5, appended: 0 });
      await expect(second.resync({ from: Number.NaN })).rejects.toSatisfy(
        ConfigurationError.isInstance,
      );
      await expect(second.resync({ from, to: from })).rejects.toSatisfy(
        ConfigurationError.isInstance,
      );
      await server().stop();
      await expect(second.resync({ from })).rejects.toSatisfy(StoreUnavailableError.isInstance);
    } finally {
      await Promise.allSettled([second.close(), redis.close()]);
      await server().restart();
    }
  });

  it('with journalPath the next process replays its settles too: counter = ledger, once', async () => {
    const journalPath = join(dir, 'worker-1.journal');
    const path = join(dir, 'journal-local.db');
    const prefix = freshPrefix();
    const open = async (events: ResilientEvent[] = []) =>
      createResilientStore({
        primary: await openStore(server(), { commandTimeoutMs: 500, prefix }),
        local: createSqliteStore({ path }),
        retryIntervalMs: 60_000,
        journalPath,
        onEvent: (event) => events.push(event),
      });
    const first = await open();
    const calls = Array.from({ length: 8 }, (_, i) => ({
      callId: `j-${i}`,
      estimate: usdToFemto(0.02),
      actual: usdToFemto(0.01) + BigInt(i * 12_345),
    }));
    for (const call of calls) {
      const answer = await first.reserve({
        callId: call.callId,
        amountFemto: call.estimate,
        counters: [user],
        holdUntil: Date.now() + 3_600_000,
        now: NOW,
      });
      expect(answer).toEqual({ ok: true });
    }
    await server().stop();
    // The model calls finished during the outage: settles and records queue up.
    for (const call of calls) {
      await first.settle(call.callId, call.actual, [user], NOW);
      await first.append([ledgerRecord({ callId: call.callId, costFemto: call.actual })]);
    }
    expect(first.pending).toBe(16);
    const journal = readFileSync(journalPath, 'utf8');
    await first.close(); // the process stops while Redis is down

    await server().restart();
    const events: ResilientEvent[] = [];
    const second = await open(events);
    const redis = await openStore(server(), { prefix });
    const sum = calls.reduce((total, call) => total + call.actual, 0n);
    try {
      expect(events[0]).toEqual({ type: 'journal_loaded', operations: 16, invalid: 0 });
      expect(await second.replay()).toBe(true);
      expect(await redis.counters([user.key], NOW)).toEqual([
        { key: user.key, settledFemto: sum, reservedFemto: 0n },
      ]);
      const held = (await redis.query({ limit: 100 })).records.map((r) => r.callId).sort();
      expect(held).toEqual(calls.map((c) => c.callId).sort());
      expect(readFileSync(journalPath, 'utf8')).toBe('');

      // The same journal replayed again (a process that died before clearing it): no change.
      await second.close();
      writeFileSync(journalPath, journal);
      const third = await open();
      expect(await third.replay()).toBe(true);
      expect((await redis.counters([user.key], NOW))[0]).toEqual({
        key: user.key,
        settledFemto: sum,
        reservedFemto: 0n,
      });
      expect((await redis.query({ limit: 100 })).records).toHaveLength(8);
      await third.close();
    } finally {
      await Promise.allSettled([second.close(), redis.close()]);
    }
  });
});

describeRedis('ResilientStore (redis + memory) passes the store conformance suite', () => {
  const server = useRedisServer();
  const primaries = new Map<unknown, RedisStore>();
  testStore('resilient(redis+memory)', {
    create: async () => {
      const primary = await openStore(server());
      const store = createResilientStore({ primary, local: new MemoryStore() });
      primaries.set(store, primary);
      return store;
    },
    destroy: async (store) => {
      await primaries.get(store)?.client.flushdb();
      primaries.delete(store);
      await store.close();
    },
  });
});
