import type { AggregateStats } from '../account/aggregate.js';
import type { TokenUsageStats } from '../account/stats.js';
import type { InsightReport } from '../insights/types.js';
import { decimalToScaled, formatUsd } from '../price/money.js';
import type { CurrencyConverter } from './currency/convert.js';
import { formatSuggestions } from './suggestions.js';

const WIDTH = 64;
const rule = (char: string) => char.repeat(WIDTH);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0).toFixed(1);

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function section(
  title: string,
  groups: Record<string, AggregateStats>,
  totalCost: number,
  money: (usd: number) => string = formatUsd,
): string[] {
  const names = Object.keys(groups);
  if (names.length === 0) return [];
  const width = Math.max(12, ...names.map((name) => name.length));
  const lines = ['', `${title}:`];
  // Groups arrive sorted by cost, largest first.
  for (const name of names) {
    const g = groups[name] as AggregateStats;
    const unpriced = g.unpricedCalls ? `  (${g.unpricedCalls} unpriced)` : '';
    lines.push(
      `  ${name.padEnd(width)}  ${money(g.costUsd).padStart(9)}  ${pct(g.costUsd, totalCost).padStart(5)}%` +
        `  ${int(g.tokens).padStart(11)} tokens  ${String(g.calls).padStart(5)} ${g.calls === 1 ? 'call ' : 'calls'}${unpriced}`,
    );
  }
  return lines;
}

/**
 * The console cost report: overall numbers, the budget line, then cost by agent and by model,
 * each sorted by cost with its share, tokens and calls, and cost by service tier when any call
 * was billed at another tier than standard (flex, batch, priority, provisioned); with
 * `insights`, a short "Suggestions" section (see `formatSuggestions`); with `currency`, amounts
 * in that currency (rounded once to its minor unit) and a line naming the rate and its date.
 * `durationLabel` names what `sessionDurationSeconds` measures (default `Session duration`; a
 * report over a ledger of many runs says `First to last call`).
 *
 * @example
 * console.log(formatCostReport(tracker.getStatistics()));
 */
export function formatCostReport(
  stats: TokenUsageStats,
  options: { insights?: InsightReport; currency?: CurrencyConverter; durationLabel?: string } = {},
): string {
  const converter = options.currency;
  // The exact total is converted from its decimal string; groups from their rounded dollars.
  const money = converter ? (usd: number) => converter.formatUsd(usd) : formatUsd;
  const total = converter
    ? converter.format(decimalToSigned(stats.totalCostUsdExact))
    : formatUsd(stats.totalCostUsd);
  const lines = [
    rule('='),
    'TOKEN USAGE & COST REPORT',
    rule('='),
    'Overall:',
    `  Total calls:            ${int(stats.totalCalls)}`,
    `  Total tokens:           ${int(stats.totalTokens)} (input ${int(stats.inputTokens)}, output ${int(stats.outputTokens)}; cached ${int(stats.cachedTokens)}, reasoning ${int(stats.reasoningTokens)})`,
    `  Total cost:             ${total}`,
    `  Average cost per call:  ${money(stats.averageCostPerCall)}`,
    `  ${`${options.durationLabel ?? 'Session duration'}:`.padEnd(24)}${duration(stats.sessionDurationSeconds)}`,
  ];
  if (stats.budgetLimitUsd !== null) {
    lines.push(
      `  Budget:                 ${total} / ${money(stats.budgetLimitUsd)} (${(stats.budgetUtilizationPercent ?? 0).toFixed(1)}% used, ${money(stats.budgetRemainingUsd ?? 0)} remaining)`,
    );
  }
  if (stats.unpricedCalls > 0) {
    lines.push(
      `  Unpriced calls:         ${stats.unpricedCalls} (unknown model; tokens counted, cost not included)`,
    );
  }
  if (converter?.rate) lines.push(`  Currency:               ${converter.note}`);
  lines.push(...section('Cost by agent', stats.byAgent, stats.totalCostUsd, money));
  lines.push(...section('Cost by model', stats.byModel, stats.totalCostUsd, money));
  const tiers = stats.byServiceTier ?? {};
  // Only worth a section when some call was not billed at the standard price.
  if (Object.keys(tiers).some((tier) => tier !== 'standard')) {
    lines.push(...section('Cost by service tier', tiers, stats.totalCostUsd, money));
  }
  if (options.insights) lines.push(...formatSuggestions(options.insights));
  lines.push(rule('='));
  return lines.join('\n');
}

/** An exact decimal string of dollars as femto-dollars, sign kept. */
function decimalToSigned(text: string): bigint {
  return text.startsWith('-') ? -decimalToScaled(text.slice(1), 15) : decimalToScaled(text, 15);
}
