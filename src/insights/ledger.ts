import type { LedgerRecord, RecordFilter, Store } from '../keep/types.js';
import { getInsights } from './analyze.js';
import type { InsightOptions, InsightReport } from './types.js';

/** Options of `ledgerInsights`: the analysis's, plus how many ledger rows to read at most. */
export interface LedgerInsightOptions extends InsightOptions {
  /** Most records read (default 100,000, newest kept); `truncated` says when more matched. */
  maxRecords?: number;
}

/**
 * `getInsights` over the ledger's calls matching `filter`, read page by page (newest first, at
 * most `maxRecords`).
 *
 * @example
 * const report = await ledgerInsights(store, { userId: 'alice', from: Date.now() - 30 * 86_400_000 });
 * console.log(report.insights.map((i) => i.text).join('\n'));
 */
export async function ledgerInsights(
  store: Pick<Store, 'query'>,
  filter: RecordFilter,
  options: LedgerInsightOptions = {},
): Promise<InsightReport & { truncated: boolean }> {
  const { maxRecords = 100_000, ...rest } = options;
  const records: LedgerRecord[] = [];
  let cursor: string | undefined;
  let truncated = false;
  do {
    const page = await store.query({
      ...filter,
      order: 'desc',
      limit: Math.min(10_000, maxRecords - records.length),
      ...(cursor ? { cursor } : {}),
    });
    records.push(...page.records);
    cursor = page.nextCursor;
    if (cursor && records.length >= maxRecords) {
      truncated = true;
      cursor = undefined;
    }
  } while (cursor);
  return { ...getInsights(records, rest), truncated };
}
