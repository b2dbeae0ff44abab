import type { InsightReport } from '../insights/types.js';
import { formatUsd } from '../price/money.js';
import type { CurrencyConverter } from './currency/convert.js';
import { plural } from './plural.js';

/**
 * The full insights listing for a terminal: every insight's line, with what-if tables and loop
 * iterations below it; amounts in `currency` when given (the one-line texts stay in USD).
 *
 * @example
 * console.log(formatInsights(getInsights(tracker)));
 */
export function formatInsights(report: InsightReport, currency?: CurrencyConverter): string {
  const money = currency ? (usd: number) => currency.formatUsd(usd) : formatUsd;
  const lines = [
    `${plural(report.calls, 'call')}, ${money(report.costUsd)} ($${report.costUsdExact} exact)`,
  ];
  if (currency?.rate) lines.push(currency.note);
  if (report.insights.length === 0) lines.push('No suggestions.');
  for (const insight of report.insights) {
    const mark = insight.severity === 'warning' ? 'warning' : insight.kind;
    const saving =
      insight.savingUsd > 0
        ? ` [save ~${money(insight.savingUsd)}, ${insight.confidence} confidence]`
        : '';
    lines.push('', `${mark}: ${insight.text}${saving}`);
    if (insight.table) {
      const width = Math.max(...insight.table.map((row) => row.model.length));
      for (const row of insight.table) {
        const change =
          row.model === 'current' ? '' : `  saves ${money(row.savingUsd)} (${row.savingPercent}%)`;
        lines.push(`    ${row.model.padEnd(width)}  ${money(row.costUsd).padStart(9)}${change}`);
      }
    }
    for (const step of insight.iterations ?? []) {
      lines.push(
        `    iteration ${step.iteration}: ${money(step.costUsd)} (${plural(step.calls, 'call')})`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
