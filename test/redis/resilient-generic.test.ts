/**
 * createResilientStore is generic over any Store: here the primary is a MemoryStore behind a
 * switch that makes it unreachable, so queueing, ordering, replay and its limits run in
 * milliseconds without a server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { BudgetCounter, Store } from '../../src/keep/types.js';
import {
  createResilientStore,
  type ResilientEvent,
  StoreUnavailableError,
} from '../../src/redis/index.js';
import { ledgerRecord, ledgerRecords, withoutConsumeRates } from '../keep/fixtures.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const user: BudgetCounter = {
  key: 'user:a:day',
  limitFemto: 1_000n,
  hard: true,
  expiresAt: NOW + 1,
};

/** A MemoryStore that throws StoreUnavailableError from every method while `down` is true. */
function switchable() {
  const inner = new MemoryStore();
  const state = { down: false, calls: [] as string[] };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        state.calls.push(String(property));
        if (state.down)
          return Promise.reject(new StoreUnavailableError('memory', String(property)));
        return value.apply(target, args);
      };
    },
  }) as Store;
  return { inner, store, state };
}

it('queues in order while down and replays once back, each call counted once', async () => {
  const primary = switchable();
  const events: ResilientEvent[] = [];
  const store = createResilientStore({
    primary: primary.store,
    local: new MemoryStore(),
    retryIntervalMs: 60_000, // replay only when asked
    onEvent: (e) => events.push(e),
  });
  await store.reserve({
    callId: 'a',
    amountFemto: 600n,
    counters: [user],
    holdUntil: NOW + 10,
    now: NOW,
  });
  primary.state.down = true;
  await store.settle('a', 500n, [user], NOW);
  await store.append(ledgerRecords(3));
  await store.release('b', NOW);
  expect(store.pending).toBe(5);
  expect(await store.replay()).toBe(false); // still down: the probe fails, nothing is lost
  expect(store.pending).toBe(5);

  primary.state.down = false;
  expect(await store.replay()).toBe(true);
  expect(await primary.inner.counters([user.key], NOW)).toEqual([
    { key: user.key, settledFemto: 500n, reservedFemto: 0n },
  ]);
  expect((await primary.inner.query()).records).toHaveLength(3);
  expect(events.map((e) => e.type)).toEqual(['unavailable', 'recovered']);
  expect(events[1]).toMatchObject({ replayed: 5 });
  await store.close();
});

it('merges queued appends into batches and keeps the newest when over maxPending', async () => {
  const primary = switchable();
  const events: ResilientEvent[] = [];
  const store = createResilientStore({
    primary: primary.store,
    local: new MemoryStore(),
    retryIntervalMs: 60_000,
    maxPending: 10,
    onEvent: (e) => events.push(e),
  });
  primary.state.down = true;
  const records = ledgerRecords(14);
  for (const record of records) await store.append([record]);
  expect(store.pending).toBe(10);
  expect(events.filter((e) => e.type === 'replay_dropped')).toHaveLength(4);
  primary.state.down = false;
  primary.state.calls.length = 0;
  expect(await store.replay()).toBe(true);
  expect(primary.state.calls.filter((c) => c === 'append')).toHaveLength(1);
  const kept = (await primary.inner.query()).records.map((r) => r.callId);
  expect(kept).toEqual(records.slice(4).map((r) => r.callId));
  // The local ledger kept all 14 all along.
  expect((await store.query()).records).toHaveLength(14);
  await store.close();
});

it('fail-closed refuses with StoreUnavailableError; a throwing listener changes nothing', async () => {
  const primary = switchable();
  const store = createResilientStore({
    primary: primary.store,
    local: new MemoryStore(),
    failMode: 'closed',
    onEvent: () => {
      throw new Error('listener bug');
    },
  });
  primary.state.down = true;
  const reserve = store.reserve({
    callId: 'x',
    amountFemto: 1n,
    counters: [user],
    holdUntil: NOW,
    now: NOW,
  });
  await expect(reserve).rejects.toSatisfy(StoreUnavailableError.isInstance);
  await expect(reserve).rejects.toMatchObject({ store: 'memory', operation: 'reserve' });
  expect(await store.append([ledgerRecord()])).toBe(1);
  // Alerts fall back to the local store in both modes.
  expect(await store.markAlert('k', 0.5, Date.now() + 60_000)).toBe(true);
  expect(await store.markAlert('k', 0.5, Date.now() + 60_000)).toBe(false);
  await store.close();
});

it('errors that are not outages pass through and do not mark the primary down', async () => {
  const store = createResilientStore({ primary: new MemoryStore(), local: new MemoryStore() });
  await expect(
    store.reserve({ callId: 'x', amountFemto: 1n, counters: [user], holdUntil: NOW, now: NOW }),
  ).resolves.toEqual({ ok: true });
  const broken = {
    ...new MemoryStore(),
    name: 'broken',
    capabilities: new MemoryStore().capabilities,
    reserve: () => Promise.reject(new TypeError('bug')),
  } as unknown as Store;
  const wrapped = createResilientStore({ primary: broken, local: new MemoryStore() });
  await expect(
    wrapped.reserve({ callId: 'x', amountFemto: 1n, counters: [user], holdUntil: NOW, now: NOW }),
  ).rejects.toThrow(TypeError);
  expect(wrapped.available).toBe(true);
});

it('consumeRates: on the primary while up; on the local store (all or nothing) or refused while down', async () => {
  const rate = (key: string, cost: number) => ({ key, limit: 10, windowMs: 1_000, cost, now: NOW });
  const primary = switchable();
  const local = new MemoryStore();
  const events: ResilientEvent[] = [];
  const open = createResilientStore({
    primary: primary.store,
    local,
    retryIntervalMs: 60_000,
    onEvent: (e) => events.push(e),
  });
  expect(await open.consumeRates?.([rate('a', 1), rate('b', 2)])).toEqual({
    ok: true,
    remaining: [9, 8],
  });
  expect(await primary.inner.consumeRate(rate('a', 0))).toEqual({ ok: true, remaining: 9 });
  primary.state.down = true;
  // Fail-open: the local store's limits, still all or nothing.
  expect(await open.consumeRates?.([rate('a', 1), rate('b', 11)])).toEqual({
    ok: false,
    retryAfterMs: Number.POSITIVE_INFINITY,
    index: 1,
  });
  expect(await local.consumeRate(rate('a', 0))).toEqual({ ok: true, remaining: 10 });
  expect(events.filter((e) => e.type === 'fail_open')).toEqual([
    { type: 'fail_open', operation: 'consumeRates', keys: ['a', 'b'] },
  ]);
  await open.close();

  const closed = createResilientStore({
    primary: primary.store,
    local,
    failMode: 'closed',
    retryIntervalMs: 60_000,
  });
  await expect(closed.consumeRates?.([rate('a', 1)])).rejects.toMatchObject({
    store: 'memory',
    operation: 'consumeRates',
  });
  await closed.close();
});

it('consumeRates is absent when the primary lacks it, so callers keep their fallback', async () => {
  const withoutBatch = withoutConsumeRates();
  const store = createResilientStore({ primary: withoutBatch, local: new MemoryStore() });
  expect(store.consumeRates).toBeUndefined();
  expect(await store.consumeRate({ key: 'k', limit: 1, windowMs: 1, cost: 1, now: NOW })).toEqual({
    ok: true,
    remaining: 0,
  });
  await store.close();
});

describe('journalPath: the replay queue on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
  /** A store on `primary` whose queue is journaled at `journalPath`, probed only when asked. */
  const journaled = (
    primary: Store,
    journalPath: string,
    options: { maxPending?: number; onEvent?: (event: ResilientEvent) => void } = {},
  ) =>
    createResilientStore({
      primary,
      local: new MemoryStore(),
      retryIntervalMs: 60_000,
      journalPath,
      ...options,
    });

  it('writes each queued operation as it is queued; the next store replays them, exact', async () => {
    const journalPath = join(dir, 'a.journal');
    const primary = switchable();
    const first = journaled(primary.store, journalPath);
    primary.state.down = true;
    const huge = 2n ** 70n + 1n; // far beyond a double: must come back to the femto-dollar
    const records = ledgerRecords(3).map((r, i) => (i === 0 ? { ...r, costFemto: huge } : r));
    await first.append(records.slice(0, 2));
    await first.settle('a', 500n, [user], NOW);
    await first.append(records.slice(2));
    await first.release('b', NOW);
    expect(lines(journalPath)).toHaveLength(4); // on disk before any close: a crash keeps them

    // A new store on the same file (the process restarted) with the primary back.
    primary.state.down = false;
    const events: ResilientEvent[] = [];
    const second = journaled(primary.store, journalPath, { onEvent: (e) => events.push(e) });
    expect(events[0]).toEqual({ type: 'journal_loaded', operations: 4, invalid: 0 });
    expect(await second.replay()).toBe(true);
    expect(second.pending).toBe(0);
    expect(await primary.inner.counters([user.key], NOW)).toEqual([
      { key: user.key, settledFemto: 500n, reservedFemto: 0n },
    ]);
    const kept = (await primary.inner.query()).records;
    expect(kept.map((r) => r.callId)).toEqual(records.map((r) => r.callId));
    expect(kept[0]?.costFemto).toBe(huge);
    expect(readFileSync(journalPath, 'utf8')).toBe(''); // drained: nothing left to keep
    await first.close();
    await second.close();
  });

  it('skips and counts lines cut short or edited, keeps the newest within maxPending', async () => {
    const journalPath = join(dir, 'b.journal');
    const primary = switchable();
    primary.state.down = true;
    const first = journaled(primary.store, journalPath);
    for (const record of ledgerRecords(6)) await first.append([record]);
    const written = lines(journalPath);
    writeFileSync(
      journalPath,
      `${written.join('\n')}\n{"op":"settle","callId":"cut","actualFemto":{"$bigi\n{"op":"launch"}\n`,
    );
    const events: ResilientEvent[] = [];
    const second = journaled(primary.store, journalPath, {
      maxPending: 4,
      onEvent: (e) => events.push(e),
    });
    expect(events).toContainEqual({ type: 'journal_loaded', operations: 6, invalid: 2 });
    const dropped = events.flatMap((e) => (e.type === 'replay_dropped' ? [e.dropped] : []));
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(2); // the two oldest
    expect(second.pending).toBe(4);
    expect(lines(journalPath)).toHaveLength(4); // rewritten: the kept ones only
    primary.state.down = false;
    expect(await second.replay()).toBe(true);
    expect((await primary.inner.query()).records).toHaveLength(4);
    await first.close();
    await second.close();
  });

  it('keeps what is still queued at close for the next process (no replay_dropped)', async () => {
    const journalPath = join(dir, 'c.journal');
    const primary = switchable();
    const events: ResilientEvent[] = [];
    const store = journaled(primary.store, journalPath, { onEvent: (e) => events.push(e) });
    primary.state.down = true;
    await store.append(ledgerRecords(2));
    await store.close();
    expect(events.some((e) => e.type === 'replay_dropped')).toBe(false);
    expect(lines(journalPath)).toHaveLength(1);
  });

  it('refuses a path it cannot write, at once', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    for (const journalPath of [join(file, 'x.journal'), '']) {
      expect(() =>
        createResilientStore({ primary: new MemoryStore(), local: new MemoryStore(), journalPath }),
      ).toThrow(ConfigurationError);
    }
  });
});
