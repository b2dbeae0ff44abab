/**
 * The dashboard in a real browser: Debian's headless Chromium driven by playwright-core (no
 * browser download), against the real server on 127.0.0.1 over a seeded SqliteStore. Every
 * number the page shows is checked against what the API answers for the same key.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { CLIENT_JS } from '../../src/server/dashboard/client.js';
import {
  createApiKey,
  createHandler,
  RateLimitList,
  type RunningServer,
  serve,
} from '../../src/server/index.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[dashboard test] ${CHROMIUM} not found: the browser tests are skipped`);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The server's clock: 2026-11-23T12:00:00Z. */
const NOW = Date.UTC(2026, 10, 23, 12);
/** An agent name that would run script if the page ever used it as HTML. */
const EVIL = '<img src=x onerror="window.__pwned=1">';
/** Femto-dollars: $1 = 10^15. */
const usd = (dollars: number) => BigInt(Math.round(dollars * 1e6)) * 1_000_000_000n;

let seq = 0;
function rec(parts: Partial<LedgerRecord>): LedgerRecord {
  seq += 1;
  const inputTokens = 800 + seq * 37;
  const outputTokens = 120 + seq * 11;
  return {
    id: `r-${String(seq).padStart(3, '0')}`,
    callId: `c-${seq}`,
    timestamp: NOW - HOUR,
    sessionId: 's-1',
    agent: 'planner',
    model: 'gemini-2.5-flash',
    inputTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: inputTokens + outputTokens,
    priced: true,
    costFemto: usd(0.0015),
    ...parts,
  };
}

/** 31 calls over 30 days: four agents, four models, four users, two tenants, two unpriced. */
function seed(): LedgerRecord[] {
  return [
    // planner · flash · alice (acme): 12 calls over the last 6 days, $0.0015 each
    ...Array.from({ length: 12 }, (_, i) =>
      rec({ userId: 'alice', tenantId: 'acme', timestamp: NOW - (i * 11 + 1) * HOUR }),
    ),
    // coder · pro · bob (acme): 6 calls over 20 days, $0.2125 each
    ...[2, 30, 75, 150, 300, 470].map((h) =>
      rec({
        userId: 'bob',
        tenantId: 'acme',
        agent: 'coder',
        model: 'gemini-2.5-pro',
        costFemto: usd(0.2125),
        timestamp: NOW - h * HOUR,
      }),
    ),
    // researcher · flash-lite · carol (globex): 5 calls, $0.0031 each
    ...[3, 20, 44, 96, 200].map((h) =>
      rec({
        userId: 'carol',
        tenantId: 'globex',
        agent: 'researcher',
        model: 'gemini-2.5-flash-lite',
        costFemto: usd(0.0031),
        timestamp: NOW - h * HOUR,
      }),
    ),
    // a hostile agent name on an unpriced model: tokens, no cost
    ...[5, 50].map((h) =>
      rec({
        userId: 'dave',
        tenantId: 'acme',
        agent: EVIL,
        model: 'mystery-model',
        priced: false,
        costFemto: 0n,
        timestamp: NOW - h * HOUR,
      }),
    ),
    // one expensive planning call 25 days ago: the 30-day view crosses $1
    rec({
      userId: 'alice',
      tenantId: 'acme',
      model: 'gemini-2.5-pro',
      costFemto: usd(1.5),
      timestamp: NOW - 25 * DAY,
    }),
    // one call on the boundary day of the 1-day view (yesterday, 13:00 UTC)
    rec({ userId: 'alice', tenantId: 'acme', agent: 'coder', timestamp: NOW - 23 * HOUR }),
    // and four more recent planner calls, so the recent-calls table is cut at 20
    ...[4, 6, 7, 8].map((h) =>
      rec({ userId: 'erin', tenantId: 'acme', timestamp: NOW - h * HOUR }),
    ),
  ];
}

// ── expected formatting, independent of the page's code (Intl formats decimal strings exactly) ──

const dollars = (places: number) =>
  new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: places,
    maximumFractionDigits: places,
  });
const fmt4 = dollars(4);
const fmt2 = dollars(2);
/** $ with 4 decimals below $1, 2 from $1 up. */
const money = (exact: string | number) =>
  (Number(exact) < 1 ? fmt4 : fmt2).format(String(exact) as unknown as number);
const pct = new Intl.NumberFormat('en-US', {
  style: 'percent',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const percent = (ratio: number) => pct.format(String(ratio) as unknown as number);
const count = (n: number) => new Intl.NumberFormat('en-US').format(n);

/** A group of /api/usage/by-agent, /by-model or the summary's topUsers. */
type GroupRow = { share: number; calls: number; costUsdExact: string } & Record<string, unknown>;

/** A row of /api/usage/records. */
interface RecordRow {
  id: string;
  time: string;
  userId?: string;
  agent: string;
  model: string;
  totalTokens: number;
  costUsdExact: string;
}

/** Script run in the page (the tests have no DOM types: these are the browser's). */
const STORED_KEY = 'sessionStorage.getItem("tollgate.apiKey")';

// ── the server ──

let dir: string;
let store: SqliteStore;
let budgets: BudgetManager;
let limits: RateLimitList;
let running: RunningServer;
const keys = { admin: '', viewer: '', globex: '' };

// biome-ignore lint/suspicious/noExplicitAny: API answers are read loosely
async function api(key: string, path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${running.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-'));
  store = createSqliteStore({ path: join(dir, 'ledger.db') });
  await store.append(seed());
  budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
  budgets.setRule({
    id: 'monthly-all',
    scope: { kind: 'global' },
    window: 'month',
    limitUsd: 10,
    mode: 'hard',
    alertAt: [0.5, 0.8, 0.95],
  });
  budgets.setUserLimit('alice', 2);
  budgets.setRule({
    id: 'each-user',
    scope: { kind: 'user' },
    window: 'day',
    limitUsd: 25,
    mode: 'soft',
  });
  // Spend in the current windows: alice $0.50, bob $6.00 (the global month: $6.50).
  for (const [userId, spend] of [
    ['alice', 0.5],
    ['bob', 6],
  ] as const) {
    const { reservation } = await budgets.reserve({
      callId: `spend-${userId}`,
      userId,
      model: 'gemini-2.5-flash',
      estimateUsd: spend,
      now: NOW,
    });
    await budgets.settle(reservation, usd(spend), NOW);
  }
  limits = new RateLimitList([
    { id: 'per-user', scope: { kind: 'user' }, requestsPerMinute: 60 },
    { id: 'pro-tokens', scope: { kind: 'model', id: 'gemini-2.5-pro' }, tokensPerMinute: 200_000 },
  ]);
  const admin = createApiKey('admin');
  const viewer = createApiKey('viewer');
  const globex = createApiKey('viewer', 'globex');
  keys.admin = admin.key;
  keys.viewer = viewer.key;
  keys.globex = globex.key;
  const handler = createHandler({
    store,
    budgets,
    rateLimiter: limits,
    auth: { apiKeys: [admin.record, viewer.record, globex.record] },
    now: () => NOW,
    // Every test here shares one admin key, and each page load sends several requests: the
    // per-key API limit (tested in test/server/limits.test.ts) would refuse some of them.
    limits: { requestsPerMinute: false },
  });
  running = await serve(handler, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await running?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard routes', () => {
  it('GET / is the page, without credentials, with a strict CSP and no-cache', async () => {
    const res = await fetch(`${running.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toMatch(/<script type="module" src="dashboard\/app\.js\?v=[0-9a-f]{12}">/);
    expect(html).toMatch(/<link rel="stylesheet" href="dashboard\/app\.css\?v=[0-9a-f]{12}">/);
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
  });

  it('serves the script and stylesheet with their types; versioned links are immutable', async () => {
    const html = await (await fetch(`${running.url}/`)).text();
    for (const [name, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['app.css', 'text/css; charset=utf-8'],
    ] as const) {
      const link = new RegExp(`dashboard/${name.replace('.', '\\.')}\\?v=[0-9a-f]+`).exec(
        html,
      )?.[0];
      expect(link, name).toBeDefined();
      const res = await fetch(`${running.url}/${link}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const etag = res.headers.get('etag') ?? '';
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      expect((await res.text()).length).toBeGreaterThan(1000);
      const plain = await fetch(`${running.url}/dashboard/${name}`);
      expect(plain.headers.get('cache-control')).toBe('no-cache');
      await plain.arrayBuffer();
      const again = await fetch(`${running.url}/dashboard/${name}`, {
        headers: { 'if-none-match': `W/${etag}` },
      });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
    const missing = await fetch(`${running.url}/dashboard/secrets.json`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('GET /dashboard/session needs a key and names its role and tenant', async () => {
    expect((await fetch(`${running.url}/dashboard/session`)).status).toBe(401);
    expect((await api(keys.admin, '/dashboard/session')).body).toMatchObject({
      role: 'admin',
      tenantId: null,
    });
    expect((await api(keys.globex, '/dashboard/session')).body).toMatchObject({
      role: 'viewer',
      tenantId: 'globex',
    });
  });

  it('the script parses, and never writes HTML', () => {
    const file = join(dir, 'app.mjs');
    writeFileSync(file, CLIENT_JS);
    execFileSync(process.execPath, ['--check', file], { timeout: 10_000 });
    expect(CLIENT_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  async function open(): Promise<{ context: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    p.setDefaultTimeout(10_000);
    p.setDefaultNavigationTimeout(15_000);
    p.on('pageerror', (error) => pageErrors.push(String(error)));
    p.on('console', (message) => {
      // The browser logs every 4xx answer (a refused key, a refused limit): those are expected.
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
        pageErrors.push(message.text());
      }
    });
    await p.goto(`${running.url}/`);
    return { context: ctx, page: p };
  }

  async function signIn(p: Page, key: string, days = 7): Promise<void> {
    await p.getByLabel('API key or token').fill(key);
    await p.getByRole('button', { name: 'Open dashboard' }).click();
    await ready(p, days);
  }

  const ready = (p: Page, days: number) =>
    p.waitForSelector(`body[data-state="ready"][data-days="${days}"]`, { timeout: 10_000 });

  async function chooseDays(p: Page, days: number): Promise<void> {
    await p.getByLabel('Period').selectOption(String(days));
    await ready(p, days);
  }

  const text = (p: Page, testid: string) => p.getByTestId(testid).first().textContent();

  /** Every number on the page against the API's answers for the same key and days. */
  async function expectNumbersMatchApi(p: Page, key: string, days: number): Promise<void> {
    const q = `?days=${days}`;
    const [summary, agents, models, records] = await Promise.all([
      api(key, `/api/usage/summary${q}`),
      api(key, `/api/usage/by-agent${q}`),
      api(key, `/api/usage/by-model${q}`),
      api(key, `/api/usage/records${q}&limit=20`),
    ]);
    const t = summary.body.totals;
    expect(await text(p, 'total-cost')).toBe(money(t.costUsdExact));
    expect(await p.getByTestId('total-cost').getAttribute('data-value')).toBe(t.costUsdExact);
    expect(await text(p, 'total-calls')).toBe(count(t.calls));
    expect(await text(p, 'total-tokens')).toBe(count(t.totalTokens));
    expect(await text(p, 'total-input-tokens')).toBe(count(t.inputTokens));
    expect(await text(p, 'total-output-tokens')).toBe(count(t.outputTokens));
    expect(await text(p, 'unpriced-calls')).toBe(count(t.unpricedCalls));
    expect(await text(p, 'total-users')).toBe(count(summary.body.users));
    expect(await text(p, 'average-cost')).toBe(money(summary.body.averageCostPerCallUsd));

    // Cost by agent and by model: every group, in the API's order, $ and share.
    for (const [kind, list, nameKey] of [
      ['agent', agents.body.agents, 'agent'],
      ['model', models.body.models, 'model'],
      ['user', summary.body.topUsers, 'userId'],
    ] as const) {
      const rows = await p.locator(`[data-testid="${kind}-row"]`).evaluateAll(
        (els, k) =>
          els.map((el) => ({
            key: el.getAttribute('data-key'),
            name: el.querySelector(`[data-testid="${k}-name"]`)?.textContent,
            cost: el.querySelector(`[data-testid="${k}-cost"]`)?.textContent,
            exact: el.querySelector(`[data-testid="${k}-cost"]`)?.getAttribute('data-value'),
            share: el.querySelector(`[data-testid="${k}-share"]`)?.textContent,
            calls: el.querySelector(`[data-testid="${k}-calls"]`)?.getAttribute('data-value'),
          })),
        kind,
      );
      expect(rows, kind).toEqual(
        list.map((row: GroupRow) => ({
          key: row[nameKey],
          name: row[nameKey],
          cost: money(row.costUsdExact),
          exact: row.costUsdExact,
          share: percent(row.share),
          calls: String(row.calls),
        })),
      );
    }

    // Cost per day: one bar per UTC day of the window, each the API's bucket (or zero).
    const bars = await p
      .locator('[data-testid="daily-bar"]')
      .evaluateAll((els) =>
        els.map((el) => [
          el.getAttribute('data-day'),
          el.getAttribute('data-value'),
          el.getAttribute('data-calls'),
        ]),
      );
    const from = Date.parse(summary.body.from);
    const to = Date.parse(summary.body.to);
    const expected: string[][] = [];
    for (let day = Math.floor(from / DAY) * DAY; day < to; day += DAY) {
      const date = new Date(day).toISOString().slice(0, 10);
      const bucket = summary.body.daily.find((b: { start: string }) => b.start.startsWith(date));
      expected.push([date, bucket?.costUsdExact ?? '0', String(bucket?.calls ?? 0)]);
    }
    expect(bars).toEqual(expected);
    expect(summary.body.daily.length).toBeGreaterThan(0);
    const chart = p.getByRole('img', { name: /^Cost per day from/ });
    expect(await chart.getAttribute('aria-label')).toContain(`total ${money(t.costUsdExact)}`);

    // Recent calls: the API's 20 latest, row by row.
    const table = await p.locator('[data-testid="call-row"]').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-id'),
        time: el.querySelector('[data-testid="call-time"]')?.textContent,
        user: el.querySelector('[data-testid="call-user"]')?.textContent,
        agent: el.querySelector('[data-testid="call-agent"]')?.textContent,
        model: el.querySelector('[data-testid="call-model"]')?.textContent,
        tokens: el.querySelector('[data-testid="call-tokens"]')?.textContent,
        cost: el.querySelector('[data-testid="call-cost"]')?.textContent,
      })),
    );
    expect(table).toEqual(
      records.body.records.map((r: RecordRow) => ({
        id: r.id,
        time: r.time.slice(0, 19).replace('T', ' '),
        user: r.userId,
        agent: r.agent,
        model: r.model,
        tokens: count(r.totalTokens),
        cost: money(r.costUsdExact),
      })),
    );
  }

  /** Budgets: utilization, spend and limit of each, and its threshold marks. */
  async function expectBudgetsMatchApi(p: Page, key: string): Promise<void> {
    const { body } = await api(key, '/api/budgets');
    const cards = await p.locator('[data-testid="budget"]').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-id'),
        limit: el.querySelector('[data-testid="budget-limit"]')?.textContent,
        spent: el.querySelector('[data-testid="budget-spent"]')?.textContent ?? null,
        utilization: el.querySelector('[data-testid="budget-utilization"]')?.textContent ?? null,
        marks: [...el.querySelectorAll('[data-testid="budget-mark"]')].map((m) =>
          Number(m.getAttribute('data-value')),
        ),
      })),
    );
    expect(cards).toEqual(
      body.budgets.map(
        (b: {
          id: string;
          limitUsd: number;
          alertAt?: number[];
          status: { spentUsdExact: string; utilization: number } | null;
        }) => ({
          id: b.id,
          limit: money(b.limitUsd),
          spent: b.status ? money(b.status.spentUsdExact) : null,
          utilization: b.status ? percent(b.status.utilization) : null,
          marks: b.status ? (b.alertAt ?? []) : [],
        }),
      ),
    );
  }

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    ({ context, page } = await open());
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });

  it('asks for a key first, and says why a wrong one is refused', async () => {
    expect(await page.locator('body').getAttribute('data-state')).toBe('signin');
    await expect(page.getByTestId('total-cost').count()).resolves.toBe(0);
    await page.getByLabel('API key or token').fill('tg_not-a-key');
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.waitForSelector('[data-testid="signin-error"]:not(:empty)');
    expect(await text(page, 'signin-error')).toBe('That key was not accepted: invalid credentials');
    expect(await page.evaluate(STORED_KEY)).toBeNull();
  });

  it('shows the API numbers for an admin key (7 days by default), and keeps the key on reload', async () => {
    await signIn(page, keys.admin);
    expect(await text(page, 'role')).toBe('admin');
    await expectNumbersMatchApi(page, keys.admin, 7);
    await expectBudgetsMatchApi(page, keys.admin);
    await page.reload();
    await ready(page, 7);
    expect(await text(page, 'role')).toBe('admin');
  });

  it('the days selector reloads every number for 1 and 30 days', async () => {
    await chooseDays(page, 1);
    await expectNumbersMatchApi(page, keys.admin, 1);
    await chooseDays(page, 30);
    await expectNumbersMatchApi(page, keys.admin, 30);
    // The seeded shape, spelled out once: $1 and up has 2 decimals, below 4.
    const total = (await api(keys.admin, '/api/usage/summary?days=30')).body.totals;
    expect(total.costUsdExact).toBe('2.816');
    expect(await text(page, 'total-cost')).toBe('$2.82');
    expect(
      await page
        .locator('[data-testid="agent-row"][data-key="researcher"] [data-testid="agent-cost"]')
        .textContent(),
    ).toBe('$0.0155');
    expect(await page.locator('[data-testid="call-row"]').count()).toBe(20);
  });

  it('budget utilization: spend, limit, percent and the threshold marks', async () => {
    await expectBudgetsMatchApi(page, keys.admin);
    const global = page.locator('[data-testid="budget"][data-id="monthly-all"]');
    expect(await global.getByTestId('budget-utilization').textContent()).toBe('65.00%');
    expect(await global.getByTestId('budget-spent').textContent()).toBe('$6.50');
    expect(await global.getAttribute('class')).toContain('level-warn');
    const meter = global.getByRole('img');
    expect(await meter.getAttribute('aria-label')).toBe(
      'Budget monthly-all: 65.00% used; alerts at 50%, 80%, 95%',
    );
    const alice = page.locator('[data-testid="budget"][data-id="user:alice:day"]');
    expect(await alice.getByTestId('budget-utilization').textContent()).toBe('25.00%');
    // A rule for every user separately has no single spend to show.
    const each = page.locator('[data-testid="budget"][data-id="each-user"]');
    expect(await each.getByTestId('budget-utilization').count()).toBe(0);
  });

  it('text from the API is text: a hostile agent name is shown, never run', async () => {
    const row = page.locator('[data-testid="agent-row"]').filter({ hasText: 'onerror' });
    expect(await row.getByTestId('agent-name').textContent()).toBe(EVIL);
    expect(await page.locator('#by-agent img, #recent-calls img').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
  });

  it('has labels, table headers and labelled charts', async () => {
    expect(await page.getByRole('columnheader').allTextContents()).toEqual([
      'Time (UTC)',
      'User',
      'Agent',
      'Model',
      'Tokens',
      'Cost',
    ]);
    const unlabelled = await page
      .locator('input, select')
      .evaluateAll(
        (els) =>
          els.filter((el) => !(el as unknown as { labels: ArrayLike<unknown> }).labels.length)
            .length,
      );
    expect(unlabelled).toBe(0);
    const images = await page
      .locator('[role="img"]')
      .evaluateAll((els) => els.filter((el) => !el.getAttribute('aria-label')).length);
    expect(images).toBe(0);
  });

  it('takes a screenshot (in the test folder: tests write nothing into the checkout)', async () => {
    const shot = join(dir, 'dashboard.png');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: shot, fullPage: true, timeout: 15_000 });
    expect(existsSync(shot)).toBe(true);
  });

  it('an admin changes a budget limit; the API then shows it', async () => {
    const form = page.locator('[data-testid="budget"][data-id="monthly-all"] form');
    await form.getByLabel('Limit (USD)').fill('20');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('[data-testid="status"]:has-text("Saved budget monthly-all")');
    const listed = (await api(keys.admin, '/api/budgets')).body.budgets;
    expect(listed.find((b: { id: string }) => b.id === 'monthly-all')).toMatchObject({
      limitUsd: 20,
      window: 'month',
      mode: 'hard',
      alertAt: [0.5, 0.8, 0.95],
    });
    const global = page.locator('[data-testid="budget"][data-id="monthly-all"]');
    await expect.poll(() => global.getByTestId('budget-limit').textContent()).toBe('$20.00');
    expect(await global.getByTestId('budget-utilization').textContent()).toBe('32.50%');
    await expectBudgetsMatchApi(page, keys.admin);
  });

  it("an invalid limit shows the API's 400 message next to the field, and changes nothing", async () => {
    const { body: refused, status } = await api(keys.admin, '/api/budgets/monthly-all', {
      method: 'PUT',
      body: JSON.stringify({
        scope: { kind: 'global' },
        window: 'month',
        limitUsd: -5,
        mode: 'hard',
        alertAt: [0.5, 0.8, 0.95],
      }),
    });
    expect(status).toBe(400);
    const form = page.locator('[data-testid="budget"][data-id="monthly-all"] form');
    const limit = form.getByLabel('Limit (USD)');
    await limit.fill('-5');
    await form.getByRole('button', { name: 'Save' }).click();
    const error = form.getByTestId('error-limitUsd');
    await expect.poll(() => error.textContent()).toBe(refused.error.message);
    expect(refused.error.message).toBe('limitUsd: must be greater than 0');
    expect(await limit.getAttribute('aria-invalid')).toBe('true');
    expect(await limit.getAttribute('aria-describedby')).toBe(await error.getAttribute('id'));
    // A bad threshold is named by its index, next to the alerts field.
    await limit.fill('20');
    await form.getByLabel('Alert at').fill('0.5, 2');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => form.getByTestId('error-alertAt').textContent())
      .toBe('alertAt.1: must be at most 1');
    expect(await form.getByTestId('error-limitUsd').textContent()).toBe('');
    const listed = (await api(keys.admin, '/api/budgets')).body.budgets;
    expect(listed.find((b: { id: string }) => b.id === 'monthly-all').limitUsd).toBe(20);
  });

  it('an admin creates a budget, edits and deletes rate limits', async () => {
    const create = page.getByTestId('new-budget-form');
    await create.getByLabel('Id', { exact: true }).fill('coder-day');
    await create.getByLabel('Scope', { exact: true }).selectOption('agent');
    await create.getByLabel('Scope id').fill('coder');
    await create.getByLabel('Window').selectOption('day');
    await create.getByLabel('Limit (USD)').fill('3');
    await create.getByRole('button', { name: 'Create budget' }).click();
    await page.waitForSelector('[data-testid="budget"][data-id="coder-day"]');
    const { body } = await api(keys.admin, '/api/budgets');
    expect(body.budgets.find((b: { id: string }) => b.id === 'coder-day')).toMatchObject({
      scope: { kind: 'agent', id: 'coder' },
      window: 'day',
      limitUsd: 3,
      mode: 'hard',
    });

    const perUser = page.locator('[data-testid="rate-limit"][data-id="per-user"]');
    await perUser.getByLabel('Requests per minute').fill('120');
    await perUser.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => perUser.getByTestId('limit-rpm').textContent()).toBe('120');
    expect((await api(keys.admin, '/api/rate-limits')).body.rateLimits).toContainEqual({
      id: 'per-user',
      scope: { kind: 'user' },
      requestsPerMinute: 120,
    });
    // Zero requests per minute: the API's message, next to the field.
    await perUser.getByLabel('Requests per minute').fill('0');
    await perUser.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => perUser.getByTestId('error-requestsPerMinute').textContent())
      .toBe('requestsPerMinute: must be greater than 0');

    const pro = page.locator('[data-testid="rate-limit"][data-id="pro-tokens"]');
    await pro.getByRole('button', { name: 'Delete' }).click();
    await pro.getByRole('button', { name: 'Confirm delete' }).click();
    await page.waitForSelector('[data-testid="rate-limit"][data-id="pro-tokens"]', {
      state: 'detached',
    });
    const ids = (await api(keys.admin, '/api/rate-limits')).body.rateLimits.map(
      (l: { id: string }) => l.id,
    );
    expect(ids).toEqual(['per-user']);

    // A rate limit made with the form; an empty id is refused next to the field, nothing sent.
    const newLimit = page.getByTestId('new-rate-limit-form');
    const newId = newLimit.getByLabel('Id', { exact: true });
    await newLimit.getByRole('button', { name: 'Create rate limit' }).click();
    const idError = newLimit.getByTestId('error-id');
    await expect.poll(() => idError.textContent()).toBe('id: must not be empty');
    expect(await newId.getAttribute('aria-invalid')).toBe('true');
    await newId.fill('flash-rpm');
    await newLimit.getByLabel('Scope', { exact: true }).selectOption('model');
    await newLimit.getByLabel('Scope id').fill('gemini-2.5-flash');
    await newLimit.getByLabel('Requests per minute').fill('30');
    await newLimit.getByRole('button', { name: 'Create rate limit' }).click();
    const flash = page.locator('[data-testid="rate-limit"][data-id="flash-rpm"]');
    await flash.waitFor();
    expect((await api(keys.admin, '/api/rate-limits')).body.rateLimits).toContainEqual({
      id: 'flash-rpm',
      scope: { kind: 'model', id: 'gemini-2.5-flash' },
      requestsPerMinute: 30,
    });
    await flash.getByRole('button', { name: 'Delete' }).click();
    await flash.getByRole('button', { name: 'Confirm delete' }).click();
    await flash.waitFor({ state: 'detached' });
  });

  it('a viewer sees the same numbers and no edit controls', async () => {
    const viewer = await open();
    try {
      await signIn(viewer.page, keys.viewer);
      expect(await text(viewer.page, 'role')).toBe('viewer');
      await expectNumbersMatchApi(viewer.page, keys.viewer, 7);
      await expectBudgetsMatchApi(viewer.page, keys.viewer);
      expect(await viewer.page.locator('[data-testid="budget"]').count()).toBeGreaterThan(0);
      expect(await viewer.page.locator('[data-testid="rate-limit"]').count()).toBe(1);
      expect(await viewer.page.locator('form.rule-form').count()).toBe(0);
      expect(await viewer.page.locator('input:not(#api-key), #budgets button').count()).toBe(0);
      expect(await viewer.page.getByRole('button', { name: /Save|Delete|Create/ }).count()).toBe(0);
      // No stray "null" where an admin's forms would be (nor anywhere else on the page).
      for (const section of ['#budgets', '#rate-limits', 'main']) {
        expect(await viewer.page.locator(section).textContent()).not.toMatch(/\bnull\b/);
      }
    } finally {
      await viewer.context.close();
    }
  });

  it("a tenant's key sees its tenant's numbers only", async () => {
    const tenant = await open();
    try {
      await signIn(tenant.page, keys.globex);
      expect(await text(tenant.page, 'role')).toBe('viewer · tenant globex');
      await expectNumbersMatchApi(tenant.page, keys.globex, 7);
      const agents = await tenant.page.locator('[data-testid="agent-row"]').count();
      expect(agents).toBe(1);
      expect(await tenant.page.locator('main').textContent()).not.toMatch(/\bnull\b/);
    } finally {
      await tenant.context.close();
    }
  });

  it('a bare server (empty ledger, no budgets, no rate limits) says so instead of failing', async () => {
    const { key, record } = createApiKey('admin');
    const bare = await serve(
      createHandler({ store: new MemoryStore(), auth: { apiKeys: [record] }, now: () => NOW }),
      { port: 0 },
    );
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const p = await ctx.newPage();
      p.setDefaultTimeout(10_000);
      p.on('pageerror', (error) => pageErrors.push(String(error)));
      await p.goto(`${bare.url}/`);
      await signIn(p, key);
      expect(await text(p, 'total-cost')).toBe('$0.0000');
      expect(await text(p, 'total-calls')).toBe('0');
      expect(await p.locator('#by-agent').textContent()).toBe('No calls in this period.');
      expect(await p.locator('#recent-calls').textContent()).toBe('No calls in this period.');
      expect(await p.locator('#budgets').textContent()).toBe('This server has no budget manager.');
      expect(await p.locator('#rate-limits').textContent()).toBe(
        'This server has no rate limiter.',
      );
      const bars = await p
        .getByTestId('daily-bar')
        .evaluateAll((els) => els.map((el) => el.getAttribute('data-value')));
      expect(bars).toEqual(['0', '0', '0', '0', '0', '0', '0', '0']);
      expect(await p.locator('#daily text').allTextContents()).toContain('$0.0000');
      expect(await p.getByRole('img', { name: /no spend$/ }).count()).toBe(1);
    } finally {
      await ctx.close();
      await bare.close();
    }
  });

  it('signing out forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('body[data-state="signin"]');
    expect(await page.evaluate(STORED_KEY)).toBeNull();
    expect(await page.getByTestId('total-cost').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
