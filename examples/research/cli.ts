/**
 * npm run workflow -- "Transformer architectures" --budget 0.50 [--hard-limit] [--depth quick]
 *   [--papers arxiv]
 *
 * Exit codes: 0 done; 1 stopped at the hard budget limit (partial report written) or failed;
 * 2 wrong arguments.
 */
import { parseArgs } from 'node:util';
import { BudgetExceededError, formatUsd } from 'tollgate';
import { maskedUrl } from 'tollgate/postgres';
import type { Depth } from './graph.js';
import { ledgerReportCommand, runWorkflow } from './run.js';

const USAGE = `Usage: npm run workflow -- [topic] [options]

Runs the multi-agent research workflow (planner, researcher, coder, tester, critic,
synthesizer) with token and cost tracking. Without GEMINI_API_KEY it runs offline against a
local Gemini stand-in.

Options:
  --budget <usd>           session budget in USD (default 0.50)
  --hard-limit             stop the run when the budget is spent
  --warn-at <fractions>    warning thresholds, comma separated (default 0.9)
  --depth <level>          quick | standard | deep (default standard)
  --max-iterations <n>     critic revision rounds at most (default 2)
  --papers <source>        offline | arxiv: where the researcher finds papers (default
                           offline; arxiv needs the network and falls back to offline)
  --fast-model <id>        model of the researcher and tester (default gemini-2.5-flash-lite)
  --standard-model <id>    model of the other agents (default gemini-2.5-flash)
  --out <dir>              output folder (default outputs)
  --quiet                  no streamed feed and no report on the console
  -h, --help               this help`;

/** "1 call", "2 calls". */
function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function fail(message: string): never {
  console.error(`error: ${message} (see --help)`);
  process.exit(2);
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/** parseArgs's errors in the CLI's own words: they name the option and what to write instead. */
function argumentError(error: unknown, argv: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /ambiguous/.test(message)) {
    // `--budget -1`: parseArgs will not take a value that looks like an option.
    const value = argv[argv.indexOf(option) + 1] ?? '';
    return Number.isNaN(Number(value))
      ? `${option} needs a value (write ${option}=VALUE for one that starts with "-")`
      : `${option} must be a positive number, got "${value}"`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) return `${option} needs a value`;
  return message.split('\n')[0] ?? 'bad arguments';
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        budget: { type: 'string' },
        'hard-limit': { type: 'boolean' },
        'warn-at': { type: 'string' },
        depth: { type: 'string' },
        'max-iterations': { type: 'string' },
        papers: { type: 'string' },
        'fast-model': { type: 'string' },
        'standard-model': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(argumentError(error, process.argv.slice(2)));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 1) fail(`one topic expected, got ${positionals.length}; quote it`);
  const topic = positionals[0] ?? 'Transformer architectures';
  const depth = (values.depth as string | undefined) ?? 'standard';
  if (!['quick', 'standard', 'deep'].includes(depth)) {
    fail(`--depth must be quick, standard or deep, got "${depth}"`);
  }
  const papers = (values.papers as string | undefined) ?? 'offline';
  if (papers !== 'offline' && papers !== 'arxiv') {
    fail(`--papers must be offline or arxiv, got "${papers}"`);
  }
  const maxIterations = positiveNumber(
    'max-iterations',
    values['max-iterations'] as string | undefined,
    2,
  );
  if (!Number.isInteger(maxIterations)) fail('--max-iterations must be a whole number');
  const warnAt = ((values['warn-at'] as string | undefined) ?? '0.9').split(',').map((part) => {
    const n = Number(part);
    if (!(n > 0 && n < 1))
      fail(`--warn-at values must be fractions between 0 and 1, got "${part}"`);
    return n;
  });
  const quiet = Boolean(values.quiet);

  try {
    const result = await runWorkflow(topic, {
      budgetLimitUsd: positiveNumber('budget', values.budget as string | undefined, 0.5),
      hardLimit: Boolean(values['hard-limit']),
      warnAt,
      depth: depth as Depth,
      maxIterations,
      papers,
      streamOutput: !quiet,
      ...(values['fast-model'] ? { fastModel: values['fast-model'] as string } : {}),
      ...(values['standard-model'] ? { standardModel: values['standard-model'] as string } : {}),
      ...(values.out ? { outputDir: values.out as string } : {}),
    });
    const stats = result.tokenUsageStats;
    console.log(
      `\nDone${result.offline ? ' (offline: local Gemini stand-in; set GEMINI_API_KEY for the real API)' : ''}: ` +
        `${plural(stats.totalCalls, 'call')}, ${plural(stats.totalTokens, 'token')}, ${formatUsd(stats.totalCostUsd)}`,
    );
    console.log(`Report:      ${result.reportPath}`);
    console.log(`Token usage: ${result.tokenUsagePath}`);
    console.log(`Cost chart:  ${result.chartPath}`);
    if (result.ledgerPath)
      console.log(
        `Ledger:      ${maskedUrl(result.ledgerPath)} (${ledgerReportCommand(result.ledgerPath)})`,
      );
  } catch (error) {
    if (BudgetExceededError.isInstance(error)) {
      const partial = (error as { reportPath?: string }).reportPath;
      // The message says why: spend passed the limit, reached it, or the refused call's
      // estimate did not fit beside the spend and the calls in flight.
      console.error(`Stopped: ${error.message}${partial ? `; partial report: ${partial}` : ''}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
