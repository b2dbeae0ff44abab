/** `tollgate budgets set-user | list`: budget rules kept beside the ledger. */
import { existsSync } from 'node:fs';
import { isPostgresUrl } from '../../postgres/url.js';
import { formatUsd } from '../../price/money.js';
import { BudgetManager, type BudgetRule, type BudgetWindow } from '../../react/budgets/index.js';
import { ledgerForecast, type SpendForecast } from '../../react/forecast.js';
import { type RuleForecast, ruleForecast } from '../../react/rule-forecast.js';
import { configPathFor, readConfigFile, updateConfigFile } from '../../server/config-file.js';
import type { CurrencyConverter } from '../../show/currency/convert.js';
import {
  type Command,
  CommandError,
  dbPath,
  firstLine,
  type Io,
  openLedger,
  parse,
  text,
  UsageError,
  write,
} from '../args.js';
import { CURRENCY_HELP, CURRENCY_OPTIONS, converterFromFlags } from '../currency.js';

const WINDOWS: readonly BudgetWindow[] = ['request', 'hour', 'day', 'week', 'month'];

/** The rules file of the ledger: `TOLLGATE_CONFIG`, else beside the database. */
export function configPath(db: string | undefined, env: NodeJS.ProcessEnv): string {
  const ledger = dbPath(db, env); // first: it refuses an empty --db even when the env names the file
  // A Postgres ledger is no file to sit beside: its rules live in outputs/, as the default's do.
  if (isPostgresUrl(ledger)) return env.TOLLGATE_CONFIG || 'outputs/tollgate.config.json';
  return env.TOLLGATE_CONFIG || configPathFor(ledger);
}

export const budgets: Command = {
  name: 'budgets',
  summary: 'set and list budget rules',
  help: `Usage: tollgate budgets set-user <userId> <usd> [--window day] [--db PATH]
       tollgate budgets list [--currency CODE [--rates FILE|ecb]] [--db PATH]

set-user   a hard limit of <usd> dollars per window for one user (replacing the default
           for users), saved in the ledger's configuration file, which \`tollgate serve\` loads
list       the saved budget rules, each with its forecast from the ledger (spend so far in
           the window, the projection to its end with a range, the run-out date), and the
           ledger's own month

Options:
  --window W   request, hour, day (default), week or month
  --db PATH    the SQLite ledger or a postgres:// URL (default: $TOLLGATE_DB, else
               outputs/tollgate.db); the rules live in <ledger>.config.json beside it
               (outputs/tollgate.config.json for Postgres), or at $TOLLGATE_CONFIG
${CURRENCY_HELP}  -h, --help   this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      { window: { type: 'string' }, db: { type: 'string' }, ...CURRENCY_OPTIONS },
      { min: 0, max: 3 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const [action, ...rest] = args.positionals;
    const path = configPath(text(args, 'db'), io.env);
    if (action === 'set-user') {
      if (text(args, 'currency') !== undefined || text(args, 'rates') !== undefined) {
        throw new UsageError('--currency: only for list (limits are set in USD)');
      }
      return setUser(rest, text(args, 'window') ?? 'day', path, io);
    }
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
      // `list --window day` does not filter: saying so beats a list that looks filtered.
      if (text(args, 'window') !== undefined) throw new UsageError('--window: only for set-user');
      const currency = await converterFromFlags(
        text(args, 'currency'),
        text(args, 'rates'),
        io.env,
      );
      return list(path, dbPath(text(args, 'db'), io.env), io, currency);
    }
    throw new UsageError(
      action === undefined
        ? 'missing action: set-user or list'
        : `unknown action ${JSON.stringify(action)}: set-user or list`,
    );
  },
};

async function setUser(rest: string[], window: string, path: string, io: Io): Promise<number> {
  const [userId, usdText] = rest;
  if (userId === undefined || usdText === undefined || rest.length > 2) {
    throw new UsageError('set-user takes <userId> <usd>');
  }
  if (userId === '') throw new UsageError('userId: must not be empty');
  if (!/^\d+(\.\d+)?$/.test(usdText) || !(Number(usdText) > 0)) {
    throw new UsageError(
      `usd: expected a positive amount of dollars, got ${JSON.stringify(usdText)}`,
    );
  }
  if (!WINDOWS.includes(window as BudgetWindow)) {
    throw new UsageError(`--window: expected ${WINDOWS.join(', ')}, got ${JSON.stringify(window)}`);
  }
  let rule!: BudgetRule; // set by the update, which runs before updateConfigFile resolves
  try {
    // Under the file's lock: a running server's changes made meanwhile are kept.
    await updateConfigFile(path, (config) => {
      // The manager builds (and validates) the rule exactly as setUserLimit does in a program.
      const manager = new BudgetManager({ rules: config.budgets, defaultDailyUserLimitUsd: null });
      rule = manager.setUserLimit(userId, Number(usdText), window as BudgetWindow);
      return { ...config, budgets: manager.listRules() };
    });
  } catch (error) {
    throw new CommandError(firstLine(error));
  }
  await write(
    io.stdout,
    `${userId}: $${rule.limitUsd} per ${window} (hard, rule ${rule.id}), saved to ${path}\n`,
  );
  return 0;
}

async function list(
  path: string,
  db: string,
  io: Io,
  currency: CurrencyConverter | undefined,
): Promise<number> {
  const usd = currency ? (amount: number) => currency.formatUsd(amount) : formatUsd;
  const { budgets: rules } = readConfig(path);
  // Forecasts come from the ledger when there is one; the rules are listed either way.
  const store = existsSync(db) ? await openLedger(db, { mustExist: true }) : undefined;
  try {
    const now = io.now();
    if (rules.length === 0) await write(io.stdout, `no budget rules in ${path}\n`);
    const lines: string[] = currency?.rate ? [currency.note] : [];
    for (const rule of rules) {
      const scope =
        rule.scope.id === undefined
          ? `every ${rule.scope.kind}`
          : `${rule.scope.kind} ${rule.scope.id}`;
      lines.push(
        `${rule.id.padEnd(24)} ${scope.padEnd(24)} ${currency ? usd(rule.limitUsd) : `$${rule.limitUsd}`} per ${rule.window} (${rule.mode})`,
      );
      const forecast = store ? await ruleForecast(store, rule, now, rules) : null;
      if (forecast) lines.push(`  ${ruleForecastLine(rule.scope.id === undefined, forecast, usd)}`);
    }
    if (store) {
      const overall = await ledgerForecast(store, { window: 'month', now });
      lines.push(`ledger this month: ${forecastLine(overall, usd)}`);
    }
    if (lines.length > 0) await write(io.stdout, `${lines.join('\n')}\n`);
    return 0;
  } finally {
    await store?.close();
  }
}

/** For a rule over every user (tenant…): the one projected highest, and how many pass the limit. */
function ruleForecastLine(everyEntity: boolean, f: RuleForecast, usd: Money): string {
  if (!everyEntity) return forecastLine(f, usd);
  if (f.entities === 0) return 'no spend under this rule yet';
  const over = f.entitiesOverLimit > 0 ? `, ${f.entitiesOverLimit} projected past the limit` : '';
  return `highest of ${f.entities}${over}: ${f.entity} ${forecastLine(f, usd)}`;
}

/** `spent $x; projected $y ($lo–$hi) by <end>; runs out <date>` */
/** Formats dollars: as dollars, or converted to the `--currency`. */
type Money = (usd: number) => string;

function forecastLine(f: SpendForecast, usd: Money): string {
  const runOut =
    f.limitUsd === null ? '' : f.runOutAt ? `; runs out ${f.runOutAt}` : '; lasts the window';
  return (
    `spent ${usd(f.spentUsd)} since ${f.windowStart}; projected ${usd(f.projectedUsd)} ` +
    `(${usd(f.projectedLowUsd)}–${usd(f.projectedHighUsd)}) by ${f.windowEnd}${runOut}`
  );
}

/** The rules file, or a one-line CommandError naming what is wrong in it. */
export function readConfig(path: string) {
  try {
    return readConfigFile(path);
  } catch (error) {
    throw new CommandError(firstLine(error));
  }
}

/**
 * The ledger a long-running command serves (`--db`, else `TOLLGATE_DB`), its rules file, and a
 * `BudgetManager` holding that file's budgets (no default daily user limit: only the file's).
 */
export async function openLedgerWithRules(dbFlag: string | undefined, env: NodeJS.ProcessEnv) {
  const db = dbPath(dbFlag, env);
  const settings = configPath(dbFlag, env);
  const config = readConfig(settings);
  const store = await openLedger(db);
  const budgets = new BudgetManager({
    store,
    rules: config.budgets,
    defaultDailyUserLimitUsd: null,
  });
  return { db, settings, config, store, budgets };
}
