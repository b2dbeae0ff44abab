import { expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/keep/types.js';
import type { SuiteContext } from './conformance.js';
import { BASE, callIds, ledgerRecord, ledgerRecords } from './fixtures.js';

/** Every record of the store, oldest first. */
export async function everything(context: SuiteContext): Promise<LedgerRecord[]> {
  const all: LedgerRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.store().query({ limit: 10_000, ...(cursor ? { cursor } : {}) });
    all.push(...page.records);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export function appendTests(context: SuiteContext): void {
  it('round-trips every field of a full record and a minimal one', async () => {
    const full = ledgerRecord({
      node: 'agent',
      provider: 'google',
      userId: 'alice',
      tenantId: 'acme',
      threadId: 'thread-9',
      cacheWriteTokens: 3,
      toolUsePromptTokens: 7,
      metadata: { step: 2, tags: ['a', 'b'], nested: { ok: true, none: null } },
      serviceTier: 'flex',
    });
    const minimal = ledgerRecord({ timestamp: full.timestamp + 1 });
    expect(await context.store().append([full, minimal])).toBe(2);
    expect(await everything(context)).toEqual([full, minimal]);
  });

  it('round-trips every service tier; standard is stored as no tier', async () => {
    const tiers = ['flex', 'batch', 'priority', 'provisioned'] as const;
    const records = tiers.map((serviceTier) => ledgerRecord({ serviceTier }));
    const standard = ledgerRecord({ serviceTier: 'standard' });
    const untiered = ledgerRecord();
    expect(await context.store().append([...records, standard, untiered])).toBe(6);
    const { serviceTier: _standard, ...asStored } = standard;
    expect(await everything(context)).toEqual([...records, asStored, untiered]);
  });

  it('stores a tier named in another case under its canonical name', async () => {
    const loud = ledgerRecord({ serviceTier: 'PRIORITY' as LedgerRecord['serviceTier'] });
    await context.store().append([loud]);
    expect((await everything(context))[0]?.serviceTier).toBe('priority');
  });

  it('returns 0 for an empty batch', async () => {
    expect(await context.store().append([])).toBe(0);
    expect(await everything(context)).toEqual([]);
  });

  it('is idempotent by callId across batches: the first record stays', async () => {
    const store = context.store();
    const first = ledgerRecord({ callId: 'dup', costFemto: 7n });
    expect(await store.append([first])).toBe(1);
    expect(await store.append([first])).toBe(0);
    const rival = ledgerRecord({ callId: 'dup', costFemto: 99n, userId: 'mallory' });
    const other = ledgerRecord();
    expect(await store.append([rival, other])).toBe(1);
    expect(await everything(context)).toEqual([first, other]);
  });

  it('is idempotent by callId within one batch', async () => {
    const a = ledgerRecord({ callId: 'same' });
    const b = ledgerRecord({ callId: 'same', costFemto: 5n });
    expect(await context.store().append([a, b, a])).toBe(1);
    expect(await everything(context)).toEqual([a]);
  });

  it('counts each call once under concurrent overlapping appends', async () => {
    const records = ledgerRecords(50);
    const batches = Array.from({ length: 10 }, (_, i) => records.slice(i * 4, i * 4 + 14));
    const added = await Promise.all(batches.map((batch) => context.store().append(batch)));
    expect(added.reduce((a, b) => a + b, 0)).toBe(new Set(batches.flat()).size);
    expect(callIds(await everything(context))).toEqual(callIds(records.slice(0, 50)));
  });

  it.each([
    ['zero', 0n],
    ['one femto-dollar', 1n],
    ['just under a micro-dollar', 999_999_999n],
    ['one micro-dollar', 1_000_000_000n],
    ['2^53 + 1 (not a safe number)', 2n ** 53n + 1n],
    ['2^62 + 7', 2n ** 62n + 7n],
  ])('keeps a cost of %s exactly', async (_, costFemto) => {
    const record = ledgerRecord({ costFemto });
    await context.store().append([record]);
    const [stored] = await everything(context);
    expect(stored?.costFemto).toBe(costFemto);
  });

  it('sums costs exactly past 2^63 femto-dollars (100 records of 2^60)', async () => {
    const store = context.store();
    await store.append(
      ledgerRecords(100, (i) => ({ costFemto: 2n ** 60n + BigInt(i), userId: 'u' })),
    );
    const expected = 100n * 2n ** 60n + 4950n;
    const [none] = await store.summarize({ groupBy: 'none' });
    expect(none?.costFemto).toBe(expected);
    const [byUser] = await store.summarize({ groupBy: 'user' });
    expect(byUser?.costFemto).toBe(expected);
    const [byDay] = await store.summarize({ groupBy: 'day' });
    expect(byDay?.costFemto).toBe(expected);
  });

  it('keeps unpriced records as unpriced with cost 0', async () => {
    const record = ledgerRecord({ priced: false, costFemto: 0n, model: 'mystery-model' });
    await context.store().append([record]);
    expect(await everything(context)).toEqual([record]);
  });

  it('keeps records far apart in time', async () => {
    const old = ledgerRecord({ timestamp: Date.UTC(2001, 0, 1) });
    const late = ledgerRecord({ timestamp: Date.UTC(2099, 11, 31, 23, 59, 59, 999) });
    const now = ledgerRecord({ timestamp: BASE });
    await context.store().append([late, old, now]);
    expect(callIds(await everything(context))).toEqual(callIds([old, now, late]));
  });
}
