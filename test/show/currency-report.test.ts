import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { CurrencyError } from '../../src/errors.js';
import { toLedgerRecord } from '../../src/keep/record.js';
import { parseRates } from '../../src/show/currency/index.js';
import { toCsv } from '../../src/show/export.js';
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

describe('CSV and JSON exports in another currency', () => {
  // Three calls of different size on 2.5 Pro ($1.25/M in, $10/M out): $0.01125 (1k in, 1k out),
  // $0.125 + $10 = $10.125 (100k in, 1M out), and $0.000125 (100 in).
  function bigger(options: ConstructorParameters<typeof TokenTracker>[0] = {}) {
    const t = new TokenTracker(options);
    for (const [inputTokens, outputTokens] of [
      [1_000, 1_000],
      [100_000, 1_000_000],
      [100, 0],
    ] as const) {
      t.record({
        agent: 'writer',
        model: 'gemini-2.5-pro',
        usage: usage({ inputTokens, outputTokens }),
        timestamp: NOW,
      });
    }
    return t;
  }
  const fx = parseRates({
    date: '2026-11-20',
    rates: { EUR: '0.92', JPY: '151.37', KWD: '0.3075', BHD: '0.376' },
  });

  it.each([
    // $0.01125 × 0.92 = 0.01035 → 0.01; $10.125 × 0.92 = 9.315 exactly → 9.32 (half away
    // from zero); $0.000125 × 0.92 → 0.00
    ['EUR', ['0.01', '9.32', '0.00']],
    // × 151.37: 1.7029125 → 2; 1532.62125 → 1533; 0.01892 → 0 (no minor unit)
    ['JPY', ['2', '1533', '0']],
    // × 0.3075: 0.003459375 → 0.003; 3.1134375 → 3.113; 0.0000384 → 0.000 (three decimals)
    ['KWD', ['0.003', '3.113', '0.000']],
    // × 0.376: 0.00423 → 0.004; 3.807 exactly; 0.000047 → 0.000
    ['BHD', ['0.004', '3.807', '0.000']],
  ] as const)('tracker CSV in %s: each call converted exactly and rounded once', (code, costs) => {
    const t = bigger({ currency: code, rates: fx });
    const path = t.exportToCsv(join(dir, `calls-${code}.csv`));
    const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\r\n');
    const columns = (header ?? '').split(',');
    expect(columns.slice(-4)).toEqual(['currency', 'costInCurrency', 'fxRate', 'fxRateDate']);
    const at = (name: string) => columns.indexOf(name);
    expect(rows.map((row) => row.split(',')[at('costInCurrency')])).toEqual(costs);
    expect(rows.every((row) => row.split(',')[at('currency')] === code)).toBe(true);
    expect(rows.every((row) => row.endsWith(`,${fx[code]?.text},2026-11-20`))).toBe(true);
    // The USD columns are unchanged.
    expect(rows.map((row) => row.split(',')[at('costUsd')])).toEqual([
      '0.01125',
      '10.125',
      '0.000125',
    ]);
    // Without a currency, no currency columns.
    expect(toCsv(t.getUsageHistory()).split('\r\n')[0]).not.toContain('currency');
  });

  it('tollgate export --currency: CSV columns and JSON fields per record, with the rate dated', async () => {
    const file = join(dir, 'rates-kwd.json');
    writeFileSync(file, JSON.stringify({ date: '2026-11-18', rates: { KWD: '0.3075' } }));
    const csv = await cli(['export', '--format', 'csv', '--currency', 'KWD', '--rates', file]);
    expect(csv.code).toBe(0);
    const [header, ...rows] = csv.out.trim().split('\r\n');
    expect(header).toMatch(/,costUsdExact,metadata,currency,costInCurrency,fxRate,fxRateDate$/);
    expect(rows).toHaveLength(1000);
    // $0.001735 × 0.3075 = 0.000533… → 0.001
    expect(rows.every((row) => row.endsWith(',KWD,0.001,0.3075,2026-11-18'))).toBe(true);
    const json = await cli(['export', '--currency', 'jpy'], {
      TOLLGATE_FX_RATES: '{"date":"2026-11-17","rates":{"JPY":"1000"}}',
    });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.out);
    expect(parsed.currency).toEqual({
      code: 'JPY',
      minorDigits: 0,
      rate: '1000',
      rateDate: '2026-11-17',
      rateSource: 'TOLLGATE_FX_RATES',
    });
    // $0.001735 × 1000 = ¥1.735 → ¥2
    expect(parsed.records[0]).toMatchObject({ costUsdExact: '0.001735', costInCurrency: '2' });
    const missing = await cli(['export', '--currency', 'CHF']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/No exchange rate for CHF/);
  });
});
