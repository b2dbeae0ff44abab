/**
 * The dashboard in another currency, in real Chromium against the real server over a seeded
 * SQLite ledger: ?currency= in the address or the currency choice, every amount as the API
 * converted it (rounded once to the minor unit), the rate and its date shown.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { createApiKey, createHandler, type RunningServer, serve } from '../../src/server/index.js';
import { parseRates } from '../../src/show/currency/index.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';
import { ledgerRow } from '../support/ledger-rows.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const NOW = Date.UTC(2026, 10, 23, 12);
const HOUR = 3_600_000;

let dir: string;
let store: SqliteStore;
let running: RunningServer;
let browser: Browser | undefined;
const key = createApiKey('viewer');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-currency-'));
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  // $1.234567 and $0.50: $1.734567 in all.
  await store.append([
    ledgerRow('a', 'alice', NOW - HOUR, 1_234_567_000_000_000n),
    ledgerRow('b', 'bob', NOW - 2 * HOUR, 500_000_000_000_000n),
  ]);
  const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
  budgets.setRule({
    id: 'all',
    scope: { kind: 'global' },
    window: 'month',
    limitUsd: 10,
    mode: 'soft',
  });
  budgets.setRule({
    id: 'each-user',
    scope: { kind: 'user' },
    window: 'month',
    limitUsd: 1,
    mode: 'soft',
  });
  const handler = createHandler({
    store,
    budgets,
    auth: { apiKeys: [key.record] },
    now: () => NOW,
    fxRates: parseRates({
      date: '2026-11-20',
      rates: { EUR: '0.92', JPY: '151.37', KWD: '0.3075' },
    }),
  });
  running = await serve(handler, { port: 0, host: '127.0.0.1' });
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM });
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await (browser as Browser).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${running.url}${path}`);
  await page.getByLabel('API key or token').fill(key.key);
  await page.getByRole('button', { name: 'Open dashboard' }).click();
  await page.waitForSelector('body[data-state="ready"]', { timeout: 10_000 });
  return { page, errors };
}

const text = async (page: Page, testid: string) =>
  ((await page.getByTestId(testid).first().textContent()) ?? '').replace(/\u00a0/g, ' ');

async function apiJson(path: string) {
  const res = await fetch(`${running.url}${path}`, {
    headers: { authorization: `Bearer ${key.key}` },
  });
  return res.json() as Promise<Record<string, unknown>>;
}

describe.skipIf(!hasChromium)('dashboard in another currency, in Chromium', () => {
  it('?currency=EUR: every amount in euros as the API converted it, with the dated rate', async () => {
    const { page, errors } = await open('/?currency=eur');
    expect(await page.getAttribute('body', 'data-currency')).toBe('EUR');
    expect(await page.getByTestId('currency').inputValue()).toBe('EUR');
    // $1.734567 × 0.92 = 1.59580164 → €1.60
    expect(await text(page, 'total-cost')).toBe('€1.60');
    expect(await text(page, 'currency-note')).toBe(
      'Amounts in EUR at 0.92 per USD (rate of 2026-11-20, user), rounded to 2 decimals; USD is the unit of account.',
    );
    // Each recent call: $1.234567 → €1.14 (1.13580164), $0.50 → €0.46.
    const calls = await page.getByTestId('call-cost').allTextContents();
    expect(calls).toEqual(['€1.14', '€0.46']);
    const records = (await apiJson('/api/usage/records?days=7&limit=20&currency=EUR')) as {
      records: { costInCurrency: string }[];
    };
    expect(calls).toEqual(records.records.map((r) => `€${r.costInCurrency}`));
    // The budget: $10 → €9.20; spent as converted.
    expect(await text(page, 'budget-limit')).toBe('€9.20');
    expect(await text(page, 'budget-spent')).toMatch(/^€\d+\.\d{2}$/);
    // A rule for every user: whose projection is highest, and how many pass the limit.
    expect(await text(page, 'budget-forecast-entity')).toBe(
      'Highest of 2: alice (2 projected past the limit) · ',
    );
    for (const projected of await page.getByTestId('budget-projected').allTextContents()) {
      expect(projected).toMatch(/^€\d+\.\d{2}$/);
    }
    expect(await text(page, 'ledger-forecast')).toMatch(
      /^Whole ledger this month: spent €1\.60 · /,
    );
    // No dollar figure left outside the insights' one-line texts (those stay in USD and say so).
    for (const id of [
      'totals',
      'daily',
      'by-agent',
      'by-model',
      'top-users',
      'budgets',
      'recent-calls',
    ]) {
      expect(await page.locator(`#${id}`).textContent(), id).not.toMatch(/\$\d/);
    }
    for (const saving of await page.getByTestId('insight-saving').allTextContents()) {
      expect(saving).toMatch(/^ save ~€\d+\.\d{2}$/);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the currency choice: JPY has no minor unit, KWD three decimals; the address follows', async () => {
    const { page, errors } = await open('/');
    expect(await page.getAttribute('body', 'data-currency')).toBe('USD');
    expect(await text(page, 'total-cost')).toBe('$1.73');
    expect(await page.getByTestId('currency-note').isHidden()).toBe(true);
    const options = await page.getByTestId('currency').locator('option').allTextContents();
    expect(options).toEqual(['USD', 'EUR (2026-11-20)', 'JPY (2026-11-20)', 'KWD (2026-11-20)']);
    await page.getByTestId('currency').selectOption('JPY');
    await page.waitForSelector('body[data-state="ready"][data-currency="JPY"]');
    // × 151.37 = 262.5644… → ¥263; calls 186.87… → ¥187 and 75.685 → ¥76
    expect(await text(page, 'total-cost')).toBe('¥263');
    expect(await page.getByTestId('call-cost').allTextContents()).toEqual(['¥187', '¥76']);
    expect(new URL(page.url()).searchParams.get('currency')).toBe('JPY');
    expect(await text(page, 'currency-note')).toContain('rounded to 0 decimals');
    await page.getByTestId('currency').selectOption('KWD');
    await page.waitForSelector('body[data-state="ready"][data-currency="KWD"]');
    // × 0.3075 = 0.53337935… → KWD 0.533; calls 0.37962935… → 0.380 and 0.15375 → 0.154
    expect(await text(page, 'total-cost')).toBe('KWD 0.533');
    expect(
      (await page.getByTestId('call-cost').allTextContents()).map((t) => t.replace(/\u00a0/g, ' ')),
    ).toEqual(['KWD 0.380', 'KWD 0.154']);
    await page.getByTestId('currency').selectOption('USD');
    await page.waitForSelector('body[data-state="ready"][data-currency="USD"]');
    expect(await text(page, 'total-cost')).toBe('$1.73');
    expect(new URL(page.url()).searchParams.has('currency')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a currency without a rate here is said so, and amounts stay labelled USD', async () => {
    const { page, errors } = await open('/?currency=CHF');
    expect(await page.getAttribute('body', 'data-currency')).toBe('USD');
    expect(await text(page, 'currency-note')).toBe(
      'No exchange rate for CHF on this server (set TOLLGATE_FX_RATES): amounts are in USD.',
    );
    expect(await text(page, 'total-cost')).toBe('$1.73');
    expect(errors).toEqual([]);
    await page.close();
  });
});
