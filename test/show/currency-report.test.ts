import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { CurrencyError } from '../../src/errors.js';
import { toLedgerRecord } from '../../src/keep/record.js';
import { parseRates } from '../../src/show/currency/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { runCli } from '../support/cli-io.js';
import { usage } from '../support/usage-factory.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-fx-report-'));
const db = join(dir, 'ledger.db');
const NOW = Date.parse('2026-11-20T12:00:00Z');
const rates = parseRates({ date: '2026-11-20', rates: { EUR: '0.92', JPY: '151.37' } });

/** $1.735 on 2.5 Flash: 1,200 in × $0.30/M + 550 out × $2.50/M, ×1000 calls. */
function tracker(options: ConstructorParameters<typeof TokenTracker>[0] = {}) {
  const t = new TokenTracker({ budgetLimitUsd: 5, ...options });
  for (let i = 0; i < 1000; i++) {
    t.record({
      agent: 'planner',
      model: 'gemini-2.5-flash',
      usage: usage({ inputTokens: 1_200, outputTokens: 550 }),
      timestamp: NOW - 1000 + i,
    });
  }
  return t;
}

let server: Server;
let ecbUrl = '';
beforeAll(async () => {
  const store = createSqliteStore({ path: db });
  const t = tracker();
  await store.append(t.getUsageHistory().map((r) => toLedgerRecord(r, t.sessionId)));
  await store.close();
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      "<gesmes:Envelope><Cube><Cube time='2026-11-19'><Cube currency='USD' rate='1.2500'/><Cube currency='GBP' rate='0.9000'/></Cube></Cube></gesmes:Envelope>",
    );
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  ecbUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eurofxref-daily.xml`;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe('report and export in another currency', () => {
  it('shows every amount in EUR, rounded once to the cent, with the rate and its date', () => {
    const report = tracker().getCostBreakdownReport({ currency: 'EUR', rates, suggestions: false });
    // $1.735 × 0.92 = €1.5962 → €1.60; the budget $5 → €4.60, $3.265 left → €3.0038 → €3.00
    expect(report).toContain('Total cost:             €1.60');
    expect(report).toMatch(/Budget: +€1\.60 \/ €4\.60 \(34\.7% used, €3\.00 remaining\)/);
    expect(report).toContain('EUR at 0.92 per USD (rate of 2026-11-20, user)');
    expect(report).toMatch(/planner +€1\.60 +100\.0%/);
    expect(report).not.toContain('$');
  });

  it('a tracker currency applies to its report and its JSON export; USD stays beside it', () => {
    const t = tracker({ currency: 'JPY', rates });
    expect(t.getCostBreakdownReport({ suggestions: false })).toContain(
      'Total cost:             ¥263',
    );
    const exported = t.toJSON();
    // $1.735 × 151.37 = ¥262.62695 → ¥263
    expect(exported.currency).toEqual({
      code: 'JPY',
      totalCost: '263',
      rate: '151.37',
      rateDate: '2026-11-20',
      rateSource: 'user',
    });
    expect(exported.statistics.totalCostUsdExact).toBe('1.735');
  });

  it('an unknown code or a missing rate fails when the tracker is made', () => {
    expect(() => new TokenTracker({ currency: 'XYZ', rates })).toThrow(CurrencyError);
    expect(() => new TokenTracker({ currency: 'GBP', rates })).toThrow(/No exchange rate for GBP/);
    expect(() => tracker().getCostBreakdownReport({ currency: 'GBP', rates })).toThrow(
      CurrencyError,
    );
  });
});

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { TOLLGATE_DB: db, ...env }, NOW);
}

describe('tollgate report --currency', () => {
  it('reads a rates file', async () => {
    const file = join(dir, 'rates.json');
    writeFileSync(file, JSON.stringify({ date: '2026-11-18', rates: { EUR: '0.9' } }));
    const { code, out } = await cli(['report', '--currency', 'EUR', '--rates', file]);
    expect(code).toBe(0);
    // $1.735 × 0.9 = €1.5615 → €1.56
    expect(out).toContain('Total cost:             €1.56');
    expect(out).toContain('rate of 2026-11-18');
  });

  it('--rates ecb fetches over the network (here loopback), dated by the ECB file', async () => {
    const { code, out } = await cli(['report', '--currency', 'GBP', '--rates', 'ecb'], {
      TOLLGATE_ECB_URL: ecbUrl,
    });
    expect(code).toBe(0);
    // GBP per USD = 0.9 / 1.25 = 0.72: $1.735 → £1.2492 → £1.25
    expect(out).toContain('Total cost:             £1.25');
    expect(out).toContain('rate of 2026-11-19, ecb');
  });

  it('--rates ecb offline falls back to TOLLGATE_FX_RATES', async () => {
    const { code, out } = await cli(['report', '--currency', 'EUR', '--rates', 'ecb'], {
      TOLLGATE_ECB_URL: 'http://127.0.0.1:9/unreachable',
      TOLLGATE_FX_RATES: '{"EUR":"0.5"}',
    });
    expect(code).toBe(0);
    expect(out).toContain('Total cost:             €0.87');
  });

  it('a missing rate or unknown code is one line and exit code 1', async () => {
    for (const [currency, message] of [
      ['CHF', /No exchange rate for CHF/],
      ['ZZZ', /Unknown currency "ZZZ"/],
    ] as const) {
      const { code, err } = await cli(['report', '--currency', currency]);
      expect(code).toBe(1);
      expect(err).toMatch(message);
      expect(err.trim().split('\n')).toHaveLength(1);
    }
  });
});
