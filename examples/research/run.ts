/**
 * `runWorkflow(topic, options)`: the research workflow in its own tracking session, with the
 * console feed, the cost report, and the files it writes (report, token usage JSON, cost chart).
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { costBreakdownSvg, TokenTracker, type TokenUsageStats, writeFileAtomic } from 'tollgate';
import { runWithTracking } from 'tollgate/langgraph';
import { isPostgresUrl, maskedUrl } from 'tollgate/postgres';
import { createSqliteStore } from 'tollgate/sqlite';
import type { GeminiStandIn } from 'tollgate/testing';
import { buildResearchGraph, type Depth, geminiModels, type ResearchStateType } from './graph.js';
import { startOfflineGemini } from './offline.js';

export interface RunWorkflowOptions {
  /** Session budget in USD (default 0.50). */
  budgetLimitUsd?: number;
  /** Warning thresholds as fractions of the budget (default [0.9]). */
  warnAt?: number[];
  /** Stop the run when the budget is spent (default false: warnings only). */
  hardLimit?: boolean;
  /** Print the streamed feed and the cost report (default true). */
  streamOutput?: boolean;
  /** Critic revision rounds at most (default 2). */
  maxIterations?: number;
  depth?: Depth;
  /** Gemini API key; defaults to GEMINI_API_KEY. Without one, the offline stand-in answers. */
  apiKey?: string;
  fastModel?: string;
  standardModel?: string;
  /** Where files are written (default `outputs` under the working directory). */
  outputDir?: string;
  /**
   * The ledger every call is recorded in: a SQLite file, or a `postgres://` URL for the shared
   * Postgres ledger (default `TOLLGATE_DB`, else `<outputDir>/tollgate.db`), so
   * `tollgate report` shows the run afterwards; `false` for none.
   */
  ledger?: string | false;
  /**
   * Where the researcher finds papers: the offline corpus (default) or the arXiv API. If arXiv
   * fails, the researcher falls back to the offline corpus and says so in the feed.
   */
  papers?: 'offline' | 'arxiv';
  /** The arXiv API endpoint (default `https://export.arxiv.org/api/query`), for tests. */
  arxivBaseUrl?: string;
  /** Milliseconds between the starts of two arXiv requests (default 3000, arXiv's terms of use). */
  arxivIntervalMs?: number;
}

export interface WorkflowResult extends ResearchStateType {
  tokenUsageStats: TokenUsageStats;
  /** outputs/token_usage_<timestamp>.json */
  tokenUsagePath: string;
  /** outputs/cost_breakdown.svg */
  chartPath: string;
  /** True when the offline stand-in answered instead of the Gemini API. */
  offline: boolean;
  /** The SQLite ledger the calls were recorded in, if any. */
  ledgerPath: string | undefined;
}

function timestamp(): string {
  const iso = new Date().toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}`;
}

/**
 * Runs the research workflow on a topic.
 *
 * @example
 * const result = await runWorkflow('RAG systems', { budgetLimitUsd: 0.5 });
 * console.log(result.reportPath, result.tokenUsageStats.totalCostUsd);
 */
export async function runWorkflow(
  topic: string,
  options: RunWorkflowOptions = {},
): Promise<WorkflowResult> {
  const papers = options.papers ?? 'offline';
  if (papers !== 'offline' && papers !== 'arxiv') {
    throw new TypeError(`runWorkflow: papers must be "offline" or "arxiv", got "${papers}"`);
  }
  // Loaded only when asked for, so the offline run never imports the XML parser.
  const searchPapers =
    papers === 'arxiv'
      ? (await import('./arxiv.js')).arxivPaperSearch({
          ...(options.arxivBaseUrl ? { baseUrl: options.arxivBaseUrl } : {}),
          ...(options.arxivIntervalMs !== undefined ? { intervalMs: options.arxivIntervalMs } : {}),
        })
      : undefined;
  const outputDir = resolve(options.outputDir ?? 'outputs');
  const apiKey = options.apiKey ?? process.env.GEMINI_API_KEY ?? '';
  let standIn: GeminiStandIn | undefined;
  if (!apiKey) standIn = await startOfflineGemini();
  const ledgerPath =
    options.ledger === false
      ? undefined
      : (options.ledger ?? (process.env.TOLLGATE_DB || join(outputDir, 'tollgate.db')));
  const store = ledgerPath ? await openLedger(ledgerPath) : undefined;
  const tracker = new TokenTracker({
    budgetLimitUsd: options.budgetLimitUsd ?? 0.5,
    warnAt: options.warnAt ?? [0.9],
    enforce: options.hardLimit ? 'hard' : 'warn',
    ...(store ? { store } : {}),
  });
  const tokenUsagePath = join(outputDir, `token_usage_${timestamp()}.json`);
  const chartPath = join(outputDir, 'cost_breakdown.svg');
  const graph = buildResearchGraph({
    modelFor: geminiModels({
      apiKey: apiKey || 'offline',
      ...(standIn ? { baseUrl: standIn.baseUrl } : {}),
      fastModel: options.fastModel ?? 'gemini-2.5-flash-lite',
      standardModel: options.standardModel ?? 'gemini-2.5-flash',
    }),
    outputDir,
    ...(searchPapers ? { searchPapers } : {}),
  });
  try {
    const state = await runWithTracking(
      graph,
      { topic, depth: options.depth ?? 'standard', maxIterations: options.maxIterations ?? 2 },
      {
        tracker,
        workflowName: topic,
        streamOutput: options.streamOutput ?? true,
        printReport: options.streamOutput ?? true,
        reportPath: tokenUsagePath,
        // Every model call goes through trackGemini: no LangChain callback handler needed.
        langchainCallbacks: false,
        config: { configurable: { thread_id: `research-${timestamp()}` } },
      },
    );
    return {
      ...(state as ResearchStateType),
      tokenUsageStats: state.tokenUsageStats,
      tokenUsagePath,
      chartPath,
      offline: Boolean(standIn),
      ledgerPath,
    };
  } finally {
    // Also after a hard stop: the chart shows the partial spend.
    writeFileAtomic(chartPath, costBreakdownSvg(tracker.getStatistics(), `Research: ${topic}`));
    await tracker.close(); // writes what is buffered to the ledger
    await store?.close();
    await standIn?.close();
  }
}

/** A SQLite file, or the Postgres ledger for a `postgres://` URL (pg is loaded only then). */
async function openLedger(ledger: string) {
  if (!isPostgresUrl(ledger)) return createSqliteStore({ path: ledger });
  const { createPostgresStore } = await import('tollgate/postgres');
  return createPostgresStore({ connectionString: ledger });
}

/** A word the shell passes through unchanged: bare when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that shows a run's ledger again, as it runs from `cwd` in this repository: the
 * path relative to `cwd` when it is inside it, shell-quoted when it needs to be. A Postgres URL
 * with a password is never printed: when it came from `TOLLGATE_DB`, the command reads it from
 * there; otherwise the password is masked and the user puts it back.
 *
 * @example
 * ledgerReportCommand('/repo/outputs/tollgate.db', '/repo', {});
 * // npm run tollgate -- report --db outputs/tollgate.db
 */
export function ledgerReportCommand(
  ledger: string,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const command = 'npm run tollgate -- report';
  if (isPostgresUrl(ledger)) {
    const masked = maskedUrl(ledger);
    if (masked === ledger) return `${command} --db ${shellWord(ledger)}`;
    return env.TOLLGATE_DB === ledger
      ? `${command} (the ledger is $TOLLGATE_DB)`
      : `${command} --db ${shellWord(masked)} (with the password in place of ***)`;
  }
  const inside = relative(cwd, ledger);
  const path = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : ledger;
  return `${command} --db ${shellWord(path)}`;
}
