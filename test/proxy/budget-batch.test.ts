/**
 * Many calls reserved at once on one hard budget, through the gateway and its SQLite ledger
 * (whose group commit puts the reservations of one event-loop turn in one transaction): exactly
 * as many are admitted as the budget holds, and afterwards the ledger equals the counters with
 * no hold left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { femtoToUsd, usdToFemto } from '../../src/price/money.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { windowKey } from '../../src/react/budgets/rules.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';
import { type Gateway, ledger, startGateway } from './support.js';

let gateway: Gateway | undefined;
let store: SqliteStore | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const UNARY = '/v1beta/models/gemini-2.5-flash:generateContent';
const BODY = JSON.stringify({
  contents: [{ role: 'user', parts: [{ text: 'Name one prime number.' }] }],
  generationConfig: { maxOutputTokens: 200 },
});

/** An upstream gate: answers wait until `open()` (or a safety timeout). */
function gate() {
  let open: () => void = () => undefined;
  let opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let arrived = 0;
  return {
    get arrived() {
      return arrived;
    },
    async wait() {
      arrived += 1;
      await opened;
      return undefined;
    },
    open: () => open(),
    reset() {
      arrived = 0;
      opened = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 1000 && !(await condition()); i++) {
    await new Promise((done) => setTimeout(done, 5));
  }
  expect(await condition()).toBe(true);
}

describe('a burst of calls on one hard budget', () => {
  it('admits exactly as many as it holds; then ledger = counters and no hold is left', async () => {
    const upstream = gate();
    dir = mkdtempSync(join(tmpdir(), 'tollgate-burst-'));
    store = createSqliteStore({ path: join(dir, 'ledger.db') });
    const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
    gateway = await startGateway({
      store,
      proxy: { budgets },
      standIn: { respond: () => upstream.wait() },
    });
    const g = gateway;
    const post = () =>
      fetch(`${g.url}${UNARY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': g.key },
        body: BODY,
      });
    const tenantKey = windowKey('tenant', 'acme', 'day', Date.now(), 'UTC').key;
    const userKey = windowKey('user', 'alice', 'day', Date.now(), 'UTC').key;

    // One probe call, held upstream, tells what a call reserves.
    const probe = post();
    await until(() => upstream.arrived === 1);
    const [held] = (await store.counters([userKey], Date.now())) ?? [];
    const estimate = held?.reservedFemto ?? 0n;
    expect(estimate).toBeGreaterThan(0n);
    upstream.open();
    expect((await probe).status).toBe(200);
    await g.proxy.flush();

    // A tenant budget of 7.5 estimates: 7 calls fit, the 8th does not.
    budgets.setRule({
      id: 'acme',
      scope: { kind: 'tenant', id: 'acme' },
      window: 'day',
      limitUsd: femtoToUsd(estimate) * 7.5,
      mode: 'hard',
    });
    const fits = Number(usdToFemto(femtoToUsd(estimate) * 7.5) / estimate);
    expect(fits).toBe(7);
    upstream.reset();
    const burst = Array.from({ length: 20 }, () => post());
    // Every call decided (forwarded and held, or refused) before any answer comes back.
    await until(() => upstream.arrived + g.proxy.stats().refused === 20);
    upstream.open();
    const statuses = await Promise.all(
      burst.map(async (response) => {
        const res = await response;
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(fits);
    expect(statuses.filter((s) => s === 402)).toHaveLength(20 - fits);

    const records = await ledger(g);
    const burstRecords = records.slice(1);
    expect(burstRecords).toHaveLength(fits);
    const spent = burstRecords.reduce((sum, r) => sum + r.costFemto, 0n);
    expect(spent).toBeGreaterThan(0n);
    expect(await store.counters([tenantKey], Date.now())).toEqual([
      { key: tenantKey, settledFemto: spent, reservedFemto: 0n },
    ]);
    expect(store.database.prepare('SELECT COUNT(*) AS n FROM reservations').get()).toEqual({
      n: 0,
    });
  });
});
