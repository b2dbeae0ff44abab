/**
 * The dashboard as a first run sees it, in Debian's headless Chromium: a ledger whose calls carry
 * no user id, a model with a long name, and calls of a few hundred-thousandths of a dollar.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/keep/types.js';
import { createApiKey, createHandler, type RunningServer, serve } from '../../src/server/index.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[dashboard first-run test] ${CHROMIUM} not found: the browser tests are skipped`);
}

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 23, 12);
const LONG_MODEL = 'gemini-2.5-flash-preview-native-audio-dialog-tuned-for-a-long-deployment-0925';
/** $0.00003 in femto-dollars: four decimals would show it as $0.0000. */
const TINY = 30_000_000_000n;

function rec(n: number, parts: Partial<LedgerRecord>): LedgerRecord {
  return {
    id: `r-${n}`,
    callId: `c-${n}`,
    timestamp: NOW - HOUR,
    sessionId: 's-1',
    agent: 'researcher',
    model: 'gemini-2.5-flash-lite',
    inputTokens: 100,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 20,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 120,
    priced: true,
    costFemto: TINY,
    ...parts,
  };
}

let dir: string;
let store: SqliteStore;
let running: RunningServer;
let key: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-first-'));
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  // No user ids: three calls today (one on a long-named model), one two days ago.
  await store.append([
    rec(1, {}),
    rec(2, { timestamp: NOW - 2 * HOUR }),
    rec(3, { model: LONG_MODEL, agent: 'synthesizer', timestamp: NOW - 3 * HOUR }),
    rec(4, { timestamp: NOW - 50 * HOUR }),
  ]);
  const admin = createApiKey('admin');
  key = admin.key;
  const handler = createHandler({
    store,
    auth: { apiKeys: [admin.record] },
    now: () => NOW,
    limits: { requestsPerMinute: false },
  });
  running = await serve(handler, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await running?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the summary API', () => {
  it('counts the calls without a user id beside the users', async () => {
    const res = await fetch(`${running.url}/api/usage/summary?days=7`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await res.json()) as { users: number; callsWithoutUser: number; topUsers: [] };
    expect(body).toMatchObject({ users: 0, callsWithoutUser: 4, topUsers: [] });
  });
});

describe.skipIf(!hasChromium)('the dashboard in Chromium, first run', () => {
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    // A narrow window: where a long name has the least room.
    const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${running.url}/`);
    await page.getByLabel('API key or token').fill(key);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.waitForSelector('body[data-state="ready"][data-days="7"]', { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const text = (testid: string) => page.getByTestId(testid).first().textContent();

  it('says how many calls have no user id, instead of a bare "Users 0"', async () => {
    expect(await text('total-users')).toBe('0');
    expect(await text('calls-without-user')).toBe('4 calls without a user id');
    expect(await text('no-user-ids')).toContain('No call in this period has a user id (4 calls');
  });

  it('shows a long model name whole: wrapped, never clipped', async () => {
    const names = await page.locator('[data-testid="model-name"]').evaluateAll((els) =>
      els.map((el) => {
        // The browser's getComputedStyle (the tests have no DOM types).
        const style = (
          globalThis as unknown as { getComputedStyle: (e: unknown) => { textOverflow: string } }
        ).getComputedStyle;
        const own = el.getBoundingClientRect();
        const row = el.closest('li')?.getBoundingClientRect();
        return {
          text: el.textContent,
          clipped: el.scrollWidth > el.clientWidth + 1,
          inside: row !== undefined && own.right <= row.right + 1,
          ellipsis: style(el).textOverflow === 'ellipsis',
        };
      }),
    );
    const long = names.find((n) => n.text === LONG_MODEL);
    expect(long).toEqual({ text: LONG_MODEL, clipped: false, inside: true, ellipsis: false });
    // The recent calls table shows it whole too, without a sideways scroll.
    const table = await page.locator('#recent-calls').evaluate((wrap) => ({
      scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
      models: [...wrap.querySelectorAll('[data-testid="call-model"]')].map((td) => td.textContent),
    }));
    expect(table.models).toContain(LONG_MODEL);
    expect(table.scrolls).toBe(false);
  });

  it('shows tiny amounts with digits that are not zero', async () => {
    expect(await text('average-cost')).toBe('$0.000030');
    expect(await text('total-cost')).toBe('$0.0001'); // 4 decimals from $0.00005 up
    const costs = await page.locator('[data-testid="call-cost"]').allTextContents();
    expect(costs).toEqual(['$0.000030', '$0.000030', '$0.000030', '$0.000030']);
  });

  it('says "1 call" and "3 calls" in the chart tooltips', async () => {
    const titles = await page
      .locator('[data-testid="daily-bar"]')
      .evaluateAll((bars) =>
        bars.map((bar) => [
          bar.getAttribute('data-calls'),
          bar.querySelector('title')?.textContent,
        ]),
      );
    const one = titles.find(([calls]) => calls === '1');
    const three = titles.find(([calls]) => calls === '3');
    expect(one?.[1]).toMatch(/: \$0\.000030, 1 call$/);
    expect(three?.[1]).toMatch(/: \$0\.0001, 3 calls$/);
    expect(titles.find(([calls]) => calls === '0')?.[1]).toMatch(/: \$0\.0000, 0 calls$/);
    expect(pageErrors).toEqual([]);
  });

  it('labels a tiny axis with amounts that differ', async () => {
    const labels = await page.locator('[data-testid="daily-chart"] .grid text').allTextContents();
    expect(labels).toEqual(['$0.00000', '$0.00005', '$0.00010']);
  });
});
