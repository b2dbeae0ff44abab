import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { CSV_COLUMNS, fileTimestamp, type UsageExport } from '../../src/show/export.js';

function sampleTracker(): TokenTracker {
  const tracker = new TokenTracker({ budgetLimitUsd: 0.5 });
  tracker.record({
    agent: 'planner',
    model: 'gemini-2.5-flash',
    usage: {
      promptTokenCount: 1_200,
      candidatesTokenCount: 300,
      thoughtsTokenCount: 250,
      totalTokenCount: 1_750,
    },
    callId: 'call-1',
    userId: 'alice',
    threadId: 'thread, "quoted"',
    metadata: { note: 'line one\nline two' },
    timestamp: '2026-11-23T10:00:00.000Z',
  });
  tracker.record({
    agent: 'researcher',
    model: 'gemini-2.0-flash-lite',
    usage: {
      promptTokenCount: 5_000,
      candidatesTokenCount: 800,
      cachedContentTokenCount: 0,
      totalTokenCount: 5_800,
    },
    timestamp: new Date('2026-11-23T10:00:01.000Z'),
  });
  tracker.record({
    agent: 'critic',
    model: 'acme-unknown',
    usage: { input_tokens: 10, output_tokens: 2 },
  });
  return tracker;
}

/** A small RFC 4180 reader, enough to read our own CSV back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += char;
  }
  return rows;
}

describe('exports', () => {
  it('JSON round-trips statistics and every call', () => {
    const tracker = sampleTracker();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-export-'));
    const path = tracker.exportToJson(join(dir, 'nested', 'usage.json'));
    const data = JSON.parse(readFileSync(path, 'utf8')) as UsageExport;
    const stats = tracker.getStatistics();
    expect(data.statistics.totalCostUsd).toBe(stats.totalCostUsd);
    expect(data.statistics.totalCostUsdExact).toBe(stats.totalCostUsdExact);
    expect(data.statistics.byAgent).toEqual(stats.byAgent);
    expect(data.usageHistory).toHaveLength(3);
    const [first] = data.usageHistory;
    expect(first).toMatchObject({
      callId: 'call-1',
      datetime: '2026-11-23T10:00:00.000Z',
      agent: 'planner',
      inputTokens: 1_200,
      outputTokens: 550,
      reasoningTokens: 250,
      totalTokens: 1_750,
      priced: true,
      metadata: { note: 'line one\nline two' },
    });
    const sum = data.usageHistory.reduce((total, call) => total + call.costUsd, 0);
    expect(sum).toBeCloseTo(stats.totalCostUsd, 15);
    expect(data.usageHistory[2]).toMatchObject({
      priced: false,
      costUsd: 0,
      model: 'acme-unknown',
    });
    // atomic write leaves no temporary files behind
    expect(readdirSync(join(dir, 'nested'))).toEqual(['usage.json']);
  });

  it('writes to outputs/token_usage_<timestamp>.json by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-cwd-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const path = sampleTracker().exportToJson();
      expect(path).toMatch(/outputs\/token_usage_\d{8}_\d{6}_\d{3}\.json$/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('CSV has one row per call and round-trips awkward text', () => {
    const tracker = sampleTracker();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-export-'));
    const rows = parseCsv(readFileSync(tracker.exportToCsv(join(dir, 'usage.csv')), 'utf8'));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(4);
    const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    const first = rows[1] as string[];
    expect(first[column('threadId')]).toBe('thread, "quoted"');
    expect(JSON.parse(first[column('metadata')] as string)).toEqual({ note: 'line one\nline two' });
    expect(Number(first[column('costUsd')])).toBe(tracker.getUsageHistory()[0]?.cost.totalUsd);
    expect(rows[3]?.[column('priced')]).toBe('false');
  });

  it('formats file timestamps sortably', () => {
    expect(fileTimestamp(new Date('2026-01-02T03:04:05.006Z'))).toBe('20260102_030405_006');
  });
});

describe('cost report', () => {
  it('shows totals, the budget line, and agents and models by cost with shares', () => {
    const report = sampleTracker().getCostBreakdownReport();
    expect(report).toContain('Total calls:            3');
    expect(report).toMatch(
      /Budget: +\$0\.00\d+ \/ \$0\.5000 \(\d+\.\d% used, \$0\.4\d+ remaining\)/,
    );
    const agents = report.slice(report.indexOf('Cost by agent'), report.indexOf('Cost by model'));
    // planner: 1,200 × $0.30/M + 550 × $2.50/M = $0.001735; researcher: $0.000615
    expect(agents.indexOf('planner')).toBeLessThan(agents.indexOf('researcher'));
    expect(agents.indexOf('researcher')).toBeLessThan(agents.indexOf('critic'));
    expect(agents).toMatch(/planner +\$0\.0017 +73\.8% +1,750 tokens +1 call /);
    expect(agents).toMatch(/critic .*\(1 unpriced\)/);
    expect(report).toMatch(/gemini-2\.0-flash-lite +\$0\.\d{4} +\d+\.\d%/);
  });
});

describe('service tiers in exports and the report', () => {
  function tieredTracker(): TokenTracker {
    const tracker = new TokenTracker();
    const usage = { promptTokenCount: 11, candidatesTokenCount: 51, totalTokenCount: 62 };
    const model = 'gemini-3-flash-preview';
    tracker.record({ agent: 'a', model, usage });
    tracker.record({ agent: 'b', model, usage: { ...usage, trafficType: 'ON_DEMAND_FLEX' } });
    tracker.record({ agent: 'c', model, usage, serviceTier: 'batch' });
    tracker.record({ agent: 'd', model, usage: { ...usage, serviceTier: 'priority' } });
    tracker.record({
      agent: 'e',
      model,
      usage: { ...usage, trafficType: 'PROVISIONED_THROUGHPUT' },
    });
    return tracker;
  }

  it('JSON and CSV carry each call’s tier and whether it was prepaid', () => {
    const tracker = tieredTracker();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-export-'));
    const json = JSON.parse(
      readFileSync(tracker.exportToJson(join(dir, 'usage.json')), 'utf8'),
    ) as UsageExport;
    expect(json.usageHistory.map((call) => [call.serviceTier, call.prepaid, call.costUsd])).toEqual(
      [
        ['standard', false, 0.0001585],
        ['flex', false, 0.00007925],
        ['batch', false, 0.00007925],
        ['priority', false, 0.0002853],
        ['provisioned', true, 0.0001585],
      ],
    );
    const rows = parseCsv(readFileSync(tracker.exportToCsv(join(dir, 'usage.csv')), 'utf8'));
    const tier = CSV_COLUMNS.indexOf('serviceTier');
    const prepaid = CSV_COLUMNS.indexOf('prepaid');
    expect(rows.slice(1).map((row) => [row[tier], row[prepaid]])).toEqual([
      ['standard', 'false'],
      ['flex', 'false'],
      ['batch', 'false'],
      ['priority', 'false'],
      ['provisioned', 'true'],
    ]);
  });

  it('the report has a by-tier section when a call was not billed at standard', () => {
    const report = tieredTracker().getCostBreakdownReport();
    const tiers = report.slice(report.indexOf('Cost by service tier'));
    expect(tiers).toMatch(/priority +\$0\.0003 +\d+\.\d% +62 tokens +1 call /);
    expect(tiers).toMatch(/flex +\$0\.0001 /);
    expect(tiers).toMatch(/provisioned +\$0\.0002 /);
    expect(sampleTracker().getCostBreakdownReport()).not.toContain('Cost by service tier');
  });
});
