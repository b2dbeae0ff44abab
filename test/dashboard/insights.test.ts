/**
 * The dashboard's Suggestions panel in real Chromium (playwright-core with the system browser),
 * against the real server on 127.0.0.1 over a seeded SqliteStore.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { toLedgerRecord } from '../../src/keep/record.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { createApiKey, createHandler, type RunningServer, serve } from '../../src/server/index.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';
import { usage } from '../support/usage-factory.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const NOW = Date.UTC(2026, 10, 23, 12);
const EVIL = '<img src=x onerror="window.__pwned=1">';

let dir: string;
let store: SqliteStore;
let running: RunningServer;
let browser: Browser | undefined;
const key = createApiKey('viewer');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-insights-'));
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  const tracker = new TokenTracker();
  [2_100, 4_000, 6_500, 9_800].forEach((inputTokens, i) => {
    tracker.record({
      agent: EVIL,
      model: 'gemini-2.5-flash',
      usage: usage({ inputTokens, outputTokens: 500 }),
      threadId: 't',
      timestamp: NOW - 3_600_000 + i,
    });
  });
  tracker.record({
    agent: 'x',
    model: 'mystery-model',
    usage: usage({ inputTokens: 5 }),
    timestamp: NOW - 1,
  });
  await store.append(tracker.getUsageHistory().map((r) => toLedgerRecord(r, tracker.sessionId)));
  const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
  budgets.setRule({
    id: 'month-all',
    scope: { kind: 'global' },
    window: 'month',
    limitUsd: 0.001,
    mode: 'soft',
  });
  const handler = createHandler({
    store,
    budgets,
    auth: { apiKeys: [key.record] },
    now: () => NOW,
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

describe.skipIf(!hasChromium)('dashboard Suggestions panel in Chromium', () => {
  it('lists the API insights as text, warnings first, with exact savings', async () => {
    const res = await fetch(`${running.url}/api/insights?days=7`, {
      headers: { authorization: `Bearer ${key.key}` },
    });
    const report = (await res.json()) as {
      insights: {
        kind: string;
        severity: string;
        text: string;
        savingUsd: number;
        savingUsdExact: string;
        agent?: string;
      }[];
    };
    const expected = report.insights.filter(
      (i) => i.severity === 'warning' || (i.savingUsd > 0 && !(i.kind === 'what_if' && !i.agent)),
    );
    const page = await (browser as Browser).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${running.url}/`);
    await page.getByLabel('API key or token').fill(key.key);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.waitForSelector('body[data-state="ready"]', { timeout: 10_000 });
    const rows = await page.locator('[data-testid="insight-row"]').evaluateAll((els) =>
      els.map((el) => ({
        kind: el.getAttribute('data-kind'),
        text: el.querySelector('[data-testid="insight-text"]')?.textContent,
        saving:
          el.querySelector('[data-testid="insight-saving"]')?.getAttribute('data-value') ?? null,
      })),
    );
    expect(rows.length).toBeGreaterThan(2);
    expect(rows).toEqual(
      expected.slice(0, 8).map((i) => ({
        kind: i.kind,
        text: i.text,
        saving: i.savingUsd > 0 ? i.savingUsdExact : null,
      })),
    );
    expect(rows[0]?.kind).toBe('unpriced_calls');
    expect(rows.some((r) => r.kind === 'prompt_growth' && r.text?.includes(EVIL))).toBe(true);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    // The budget's forecast, as /api/budgets gives it.
    const list = (await (
      await fetch(`${running.url}/api/budgets`, { headers: { authorization: `Bearer ${key.key}` } })
    ).json()) as { budgets: { forecast: { projectedUsd: number; overLimit: boolean } }[] };
    const forecast = list.budgets[0]?.forecast;
    expect(forecast?.overLimit).toBe(true);
    const line = page.locator('[data-testid="budget"] [data-testid="budget-forecast"]');
    expect(await line.getAttribute('data-over')).toBe('true');
    const projected = await line.getByTestId('budget-projected').textContent();
    expect(Number(projected?.replace('$', ''))).toBeCloseTo(forecast?.projectedUsd ?? -1, 4);
    expect(await page.getByTestId('ledger-forecast').textContent()).toMatch(
      /^Whole ledger this month: spent \$0\.\d{4} · Projected /,
    );
    expect(await line.textContent()).toMatch(
      /^Projected \$\d+\.\d{2,4} \(\$.*\) by 2026-12-01 00:00:00 UTC/,
    );
    expect(errors).toEqual([]);
    await page.close();
  });
});
