import type { InsightReport } from '../insights/types.js';
import { formatUsd } from '../price/money.js';

/** Options of the report's "Suggestions" section. */
export interface SuggestionOptions {
  /** Most lines shown (default 5); the rest are counted. */
  max?: number;
}

/**
 * The console report's "Suggestions" section: warnings first, then the suggestions with the
 * largest savings, one line each; empty when there is nothing to say. What-if tables are shown
 * per agent here (per model they repeat the same money).
 *
 * @example
 * console.log(formatSuggestions(getInsights(tracker)).join('\n'));
 */
export function formatSuggestions(
  report: InsightReport,
  options: SuggestionOptions = {},
): string[] {
  const max = options.max ?? 5;
  const shown = report.insights.filter(
    (i) =>
      i.severity === 'warning' ||
      (i.savingUsd > 0 && !(i.kind === 'what_if' && i.agent === undefined)),
  );
  if (shown.length === 0) return [];
  const lines = ['', 'Suggestions:'];
  for (const insight of shown.slice(0, max)) {
    const mark = insight.severity === 'warning' ? '!' : '-';
    const saving = insight.savingUsd > 0 ? ` [save ~${formatUsd(insight.savingUsd)}]` : '';
    lines.push(`  ${mark} ${insight.text}${saving}`);
  }
  if (shown.length > max) {
    lines.push(`  … ${shown.length - max} more (getInsights() or \`tollgate insights\`)`);
  }
  return lines;
}
