/**
 * Group commit: the budget operations one process asks for in the same event-loop turn share one
 * IMMEDIATE transaction, yet each keeps the answer it would have had alone, in the order asked.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import type { BudgetCounter } from '../../src/keep/types.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';
import { tempDir } from './support.js';

let folder: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(() => {
  folder = tempDir();
  store = createSqliteStore({ path: join(folder.dir, 'ledger.db') });
});
afterEach(async () => {
  await store.close();
  folder.remove();
});

const NOW = 1_000_000;
const counter = (limitFemto: bigint): BudgetCounter => ({
  key: 'tenant:acme:day',
  limitFemto,
  hard: true,
  expiresAt: NOW + 86_400_000,
});
const soft: BudgetCounter = {
  key: 'user:alice:day',
  limitFemto: 0n,
  hard: false,
  expiresAt: NOW + 86_400_000,
};

/** Frames in the write-ahead log: each commit appends every page it dirtied, once. */
function walFrames(target: SqliteStore): number {
  const size = statSync(`${target.path}-wal`).size;
  const pageSize = target.database.pragma('page_size', { simple: true }) as number;
  return Math.max(0, (size - 32) / (24 + pageSize));
}

describe('SQLite group commit', () => {
  it('admits exactly the first k of n reservations asked in one turn, each with its own answer', async () => {
    const limit = counter(7n * 10n);
    const asked = Array.from({ length: 25 }, (_, i) =>
      store.reserve({
        callId: `c${i}`,
        amountFemto: 10n,
        counters: [limit, soft],
        holdUntil: NOW + 60_000,
        now: NOW,
      }),
    );
    const answers = await Promise.all(asked);
    expect(answers.slice(0, 7)).toEqual(Array(7).fill({ ok: true }));
    for (const [i, answer] of answers.slice(7).entries()) {
      // Each refusal reports the spend of the 7 admitted before it, not a stale total.
      expect(answer, `c${i + 7}`).toEqual({
        ok: false,
        key: limit.key,
        limitFemto: 70n,
        usedFemto: 70n,
      });
    }
    expect(await store.counters([limit.key, soft.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 0n, reservedFemto: 70n },
      { key: soft.key, settledFemto: 0n, reservedFemto: 70n },
    ]);

    // Settled in one turn too: the counters then hold the exact costs and no hold is left.
    await Promise.all(
      Array.from({ length: 7 }, (_, i) => store.settle(`c${i}`, BigInt(i + 1), [limit, soft], NOW)),
    );
    expect(await store.counters([limit.key, soft.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 28n, reservedFemto: 0n },
      { key: soft.key, settledFemto: 28n, reservedFemto: 0n },
    ]);
    const held = store.database.prepare('SELECT COUNT(*) AS n FROM reservations').get();
    expect(held).toEqual({ n: 0 });
  });

  it('commits one turn at once: twenty reservations write the pages one writes', async () => {
    store.database.pragma('wal_autocheckpoint = 0');
    const limit = counter(10n ** 6n);
    const reserve = (callId: string) =>
      store.reserve({
        callId,
        amountFemto: 10n,
        counters: [limit, soft],
        holdUntil: NOW + 60_000,
        now: NOW,
      });
    await reserve('warm');
    let before = walFrames(store);
    await reserve('one');
    const one = walFrames(store) - before;
    before = walFrames(store);
    await Promise.all(Array.from({ length: 20 }, (_, i) => reserve(`many${i}`)));
    const twenty = walFrames(store) - before;
    expect(one).toBeGreaterThan(0);
    // Twenty transactions would have written at least 20 × one.
    expect(twenty).toBeLessThan(2 * one);
  });

  it('runs the operations of a turn in the order asked', async () => {
    const limit = counter(30n);
    const reserve = (callId: string, amountFemto: bigint) =>
      store.reserve({ callId, amountFemto, counters: [limit], holdUntil: NOW + 60_000, now: NOW });
    // Asked in this order: a, settle a (frees 20 − 5), b (fits only after a settled), a again.
    const outcomes = Promise.all([
      reserve('a', 20n),
      store.settle('a', 5n, [limit], NOW),
      reserve('b', 25n),
      reserve('a', 20n),
      store.release('b', NOW),
      reserve('c', 25n),
    ]);
    expect(await outcomes).toEqual([
      { ok: true },
      undefined,
      { ok: true },
      // Already settled: admitted, holding nothing.
      { ok: true },
      undefined,
      { ok: true },
    ]);
    expect(await store.counters([limit.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 5n, reservedFemto: 25n },
    ]);
  });

  it('an operation that fails rejects alone; the rest of its turn commits', async () => {
    const limit = counter(100n);
    const reserve = (callId: unknown) =>
      store.reserve({
        callId: callId as string,
        amountFemto: 10n,
        counters: [limit],
        holdUntil: NOW + 60_000,
        now: NOW,
      });
    const results = await Promise.allSettled([
      reserve('x'),
      reserve({ not: 'a string' }),
      reserve('y'),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { ok: true } });
    expect(results[1]?.status).toBe('rejected');
    expect(results[2]).toEqual({ status: 'fulfilled', value: { ok: true } });
    expect(await store.counters([limit.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 0n, reservedFemto: 20n },
    ]);
  });

  it('checks inputs when asked, so a bad one never reaches the batch', async () => {
    const limit = counter(100n);
    await expect(
      store.reserve({
        callId: 'n',
        amountFemto: 10 as unknown as bigint,
        counters: [limit],
        holdUntil: NOW,
        now: NOW,
      }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(store.settle('n', 1n, [limit], Number.NaN)).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await expect(store.release('n', Number.NaN)).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('runs each operation on the inputs it was given, even if the caller changes them before the turn ends', async () => {
    const limit = counter(100n);
    const counters = [limit];
    const asked = store.reserve({
      callId: 'm',
      amountFemto: 10n,
      counters,
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    limit.key = 'changed';
    counters.push(soft);
    await asked;
    expect(await store.counters(['tenant:acme:day', 'changed', soft.key], NOW)).toEqual([
      { key: 'tenant:acme:day', settledFemto: 0n, reservedFemto: 10n },
      { key: 'changed', settledFemto: 0n, reservedFemto: 0n },
      { key: soft.key, settledFemto: 0n, reservedFemto: 0n },
    ]);
  });

  it('a read asked after an operation sees it, awaited or not', async () => {
    const limit = counter(100n);
    void store.reserve({
      callId: 'r',
      amountFemto: 10n,
      counters: [limit],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    expect(await store.counters([limit.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 0n, reservedFemto: 10n },
    ]);
  });

  it("commits under a test's fake timers too", async () => {
    vi.useFakeTimers();
    try {
      const limit = counter(100n);
      const asked = store.reserve({
        callId: 'f',
        amountFemto: 10n,
        counters: [limit],
        holdUntil: NOW + 60_000,
        now: NOW,
      });
      await expect(asked).resolves.toEqual({ ok: true });
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() commits the settlements and releases still waiting for their turn', async () => {
    const limit = counter(100n);
    const path = join(folder.dir, 'ledger.db');
    await store.reserve({
      callId: 's',
      amountFemto: 10n,
      counters: [limit],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    await store.reserve({
      callId: 't',
      amountFemto: 10n,
      counters: [limit],
      holdUntil: NOW + 60_000,
      now: NOW,
    });
    const settled = store.settle('s', 7n, [limit], NOW);
    const released = store.release('t', NOW);
    await store.close();
    await expect(settled).resolves.toBeUndefined();
    await expect(released).resolves.toBeUndefined();

    store = createSqliteStore({ path });
    expect(await store.counters([limit.key], NOW)).toEqual([
      { key: limit.key, settledFemto: 7n, reservedFemto: 0n },
    ]);
  });
});
