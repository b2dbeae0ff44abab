import type { AggregateStats } from '../account/aggregate.js';
import type { TokenUsageStats } from '../account/tracker.js';
import { formatUsd } from '../price/money.js';
import { plural } from './plural.js';

const BAR_HEIGHT = 22;
const GAP = 8;
const LABEL_WIDTH = 170;
const BAR_WIDTH = 380;
const VALUE_WIDTH = 150;
const WIDTH = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH + 40;
const COLORS = ['#2563eb', '#16a34a', '#d97706', '#dc2626', '#7c3aed', '#0891b2', '#db2777'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function panel(title: string, groups: Record<string, AggregateStats>, top: number) {
  const names = Object.keys(groups);
  const max = Math.max(...names.map((name) => groups[name]?.costUsd ?? 0), 0);
  const parts = [
    `<text x="20" y="${top + 18}" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  let y = top + 30;
  if (names.length === 0) {
    parts.push(`<text x="20" y="${y + 16}" fill="#6b7280">no calls recorded</text>`);
    return { svg: parts.join(''), height: 30 + BAR_HEIGHT + GAP };
  }
  names.forEach((name, index) => {
    const group = groups[name] as AggregateStats;
    const width = max > 0 ? Math.max(1, Math.round((group.costUsd / max) * BAR_WIDTH)) : 1;
    const color = COLORS[index % COLORS.length] as string;
    const label = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    parts.push(
      `<text x="20" y="${y + 15}">${escapeXml(label)}</text>`,
      `<rect x="${LABEL_WIDTH + 20}" y="${y}" width="${width}" height="${BAR_HEIGHT}" rx="3" fill="${color}"><title>${escapeXml(`${name}: ${formatUsd(group.costUsd, 6)}, ${group.tokens} tokens, ${plural(group.calls, 'call')}`)}</title></rect>`,
      `<text x="${LABEL_WIDTH + BAR_WIDTH + 30}" y="${y + 15}">${escapeXml(`${formatUsd(group.costUsd)} · ${plural(group.calls, 'call')}`)}</text>`,
    );
    y += BAR_HEIGHT + GAP;
  });
  return { svg: parts.join(''), height: y - top };
}

/**
 * Cost by agent and by model as two horizontal bar charts, in a standalone SVG document
 * (plain text: no canvas, no native dependency). Bars are scaled to the costliest entry.
 */
export function costBreakdownSvg(stats: TokenUsageStats, title = 'Cost breakdown'): string {
  const header = 56;
  const agents = panel('Cost by agent', stats.byAgent, header);
  const models = panel('Cost by model', stats.byModel, header + agents.height + 16);
  const height = header + agents.height + 16 + models.height + 20;
  const subtitle = `${formatUsd(stats.totalCostUsd)} total · ${plural(stats.totalCalls, 'call')} · ${stats.totalTokens.toLocaleString('en-US')} tokens${
    stats.budgetLimitUsd === null
      ? ''
      : ` · budget ${formatUsd(stats.budgetLimitUsd)} (${(stats.budgetUtilizationPercent ?? 0).toFixed(1)}%)`
  }`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13" fill="#111827">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="26" font-size="18" font-weight="700">${escapeXml(title)}</text>`,
    `<text x="20" y="46" fill="#4b5563">${escapeXml(subtitle)}</text>`,
    agents.svg,
    models.svg,
    '</svg>',
    '',
  ].join('\n');
}
