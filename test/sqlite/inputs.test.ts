import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import type { GroupBy } from '../../src/keep/types.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { rejection } from '../support/rejection.js';
import { tempDir } from './support.js';

let folder: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(() => {
  folder = tempDir();
  store = new SqliteStore({ path: join(folder.dir, 'ledger.db') });
});
afterEach(async () => {
  await store.close();
  folder.remove();
});

const counter = { key: 'user:alice:day', limitFemto: 10n, hard: true, expiresAt: 90_000_000 };

describe('SQLite budgets refuse times that are not numbers', () => {
  it('a reservation with now = NaN is refused, and never admitted past a hard limit', async () => {
    const reserve = (callId: string, now: number) =>
      store.reserve({ callId, amountFemto: 6n, counters: [counter], holdUntil: 60_000, now });
    expect(await reserve('first', 1_000)).toEqual({ ok: true });
    const error = await rejection(reserve('second', Number.NaN), ConfigurationError);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/now/);
    const [state] = await store.counters([counter.key], 1_000);
    expect(state?.reservedFemto).toBe(6n);
  });

  it.each([
    [
      'holdUntil',
      () =>
        store.reserve({
          callId: 'c',
          amountFemto: 1n,
          counters: [counter],
          holdUntil: Number.NaN,
          now: 1_000,
        }),
    ],
    ['expiresAt', () => store.settle('c', 1n, [{ ...counter, expiresAt: Number.NaN }], 1_000)],
    ['now', () => store.release('c', Number.NaN)],
    ['now', () => store.counters([counter.key], Number.NaN)],
    [
      'now',
      () => store.consumeRate({ key: 'r', limit: 1, windowMs: 1_000, cost: 1, now: Number.NaN }),
    ],
    ['threshold', () => store.markAlert('k', Number.NaN, 2_000)],
    ['expiresAt', () => store.markAlert('k', 0.5, Number.NaN)],
  ])('a NaN %s is a ConfigurationError naming it', async (name, run) => {
    const error = await rejection(run(), ConfigurationError);
    expect(ConfigurationError.isInstance(error), error.message).toBe(true);
    expect(error.message).toContain(name);
  });
});

describe('SQLite queries refuse malformed cursors', () => {
  const encoded = (text: string) => Buffer.from(text).toString('base64url');

  it.each([
    ['empty fields', encoded('asc::')],
    ['blank fields', encoded('asc: : ')],
    ['hexadecimal numbers', encoded('asc:0x10:0b1')],
    ['a fourth field', encoded('asc:1:1:1')],
    ['a number', 5],
    ['null', null],
  ])('with %s', async (_, cursor) => {
    await store.append(ledgerRecords(3));
    const error = await rejection(store.query({ cursor: cursor as string }), ConfigurationError);
    expect(ConfigurationError.isInstance(error), error.message).toBe(true);
    expect(error.message).toMatch(/not a cursor/);
  });

  it('a cursor it returned still pages on', async () => {
    await store.append(ledgerRecords(3));
    const first = await store.query({ limit: 2 });
    const next = await store.query({ cursor: first.nextCursor as string });
    expect(next.records).toHaveLength(1);
  });
});

describe('SQLite summaries refuse an unknown groupBy', () => {
  it.each(['toString', '__proto__', 'constructor'])('%s', async (groupBy) => {
    await store.append(ledgerRecords(2));
    const error = await rejection(
      store.summarize({ groupBy: groupBy as GroupBy }),
      ConfigurationError,
    );
    expect(ConfigurationError.isInstance(error), error.message).toBe(true);
    expect(error.message).toContain(`unknown groupBy "${groupBy}"`);
  });
});
