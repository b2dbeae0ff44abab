/**
 * Insights on the research workflow's real output: the offline run through the real SDK and the
 * Gemini stand-in, its JSON export and its SQLite ledger. What-if figures agree with pricing the
 * same recorded usage directly on each candidate, to the femto-dollar.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runWorkflow, type WorkflowResult } from '../../examples/research/run.js';
import { getInsights, ledgerInsights } from '../../src/insights/index.js';
import type { InsightReport } from '../../src/insights/types.js';
import { toUsageRecord } from '../../src/keep/record.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import { femtoToDecimal } from '../../src/price/money.js';
import { priceUsage } from '../../src/price/pricer.js';
import type { UsageExport } from '../../src/show/export.js';
import { createSqliteStore, type SqliteStore } from '../../src/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-research-insights-'));
let result: WorkflowResult & { tokenUsagePath: string; ledgerPath?: string };
let store: SqliteStore;
let rows: LedgerRecord[];

beforeAll(async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    result = (await runWorkflow('RAG systems', {
      apiKey: '',
      outputDir: dir,
      streamOutput: false,
    })) as typeof result;
  } finally {
    log.mockRestore();
  }
  store = createSqliteStore({ path: result.ledgerPath as string });
  rows = (await store.query({ limit: 1_000 })).records;
}, 120_000);
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('insights on the research workflow run', () => {
  it('the ledger report has what-if tables, the revision loop and thinking, and agrees with direct pricing', async () => {
    expect(rows).toHaveLength(13);
    const report = await ledgerInsights(store, {});
    expect(report.calls).toBe(13);
    expect(report.costUsdExact).toBe(result.tokenUsageStats.totalCostUsdExact);
    const kinds = new Set(report.insights.map((i) => i.kind));
    for (const kind of ['what_if', 'revision_loop', 'thinking']) expect(kinds).toContain(kind);
    const calls = rows.map((row) => toUsageRecord(row));
    let checked = 0;
    for (const insight of report.insights.filter((i) => i.kind === 'what_if')) {
      const mine = calls.filter((c) =>
        insight.agent !== undefined ? c.agent === insight.agent : c.model === insight.model,
      );
      expect(mine.length, insight.text).toBeGreaterThan(0);
      const current = mine.reduce((sum, c) => sum + c.cost.exact.total, 0n);
      const [head, ...candidates] = insight.table ?? [];
      expect(head).toMatchObject({ model: 'current', costUsdExact: femtoToDecimal(current) });
      expect(candidates.length).toBeGreaterThan(0);
      for (const row of candidates) {
        // The same recorded tokens priced on the candidate, call by call, summed exactly.
        const direct = mine.reduce(
          (sum, c) => sum + priceUsage(c.usage, row.model, { timestamp: c.timestamp }).exact.total,
          0n,
        );
        expect(row.costUsdExact, `${insight.agent ?? insight.model} on ${row.model}`).toBe(
          femtoToDecimal(direct),
        );
        expect(row.savingUsdExact).toBe(femtoToDecimal(current - direct));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('the JSON export carries the same report as the tracker and the ledger give', async () => {
    const exported = JSON.parse(readFileSync(result.tokenUsagePath, 'utf8')) as UsageExport;
    const fromExport = exported.insights as InsightReport;
    expect(fromExport.costUsdExact).toBe(exported.statistics.totalCostUsdExact);
    const fromLedger = await ledgerInsights(store, {});
    const tables = (r: InsightReport) =>
      Object.fromEntries(
        r.insights
          .filter((i) => i.kind === 'what_if')
          .map((i) => [i.agent ?? `model:${i.model}`, i.table?.map((row) => row.costUsdExact)]),
      );
    expect(tables(fromExport)).toEqual(tables(fromLedger));
    // And from the ledger rows as a plain source.
    expect(tables(getInsights(rows))).toEqual(tables(fromLedger));
  });
});
