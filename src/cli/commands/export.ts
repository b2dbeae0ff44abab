/** `tollgate export`: the ledger's records as JSON or CSV, streamed page by page. */
import { createWriteStream, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { LedgerRecord, RecordFilter, Store } from '../../keep/types.js';
import { recordJson } from '../../server/present.js';
import type { CurrencyConverter } from '../../show/currency/convert.js';
import { currencyInfo } from '../../show/currency/json.js';
import { CSV_CURRENCY_COLUMNS, csvCurrencyFields, csvField } from '../../show/export.js';
import { plural } from '../../show/plural.js';
import {
  type Command,
  CommandError,
  dbPath,
  firstLine,
  type Io,
  openLedger,
  parse,
  sinceToEpoch,
  text,
  UsageError,
  write,
} from '../args.js';
import { CURRENCY_HELP, CURRENCY_OPTIONS, converterFromFlags } from '../currency.js';
import { ProgressBar } from '../progress.js';

const PAGE = 5_000;

/** CSV columns: one per record field; cost as the exact decimal (no float in a money column). */
const COLUMNS = [
  'id',
  'callId',
  'time',
  'sessionId',
  'agent',
  'node',
  'model',
  'provider',
  'userId',
  'tenantId',
  'threadId',
  'inputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
  'toolUsePromptTokens',
  'totalTokens',
  'priced',
  'serviceTier',
  'prepaid',
  'costUsdExact',
  'metadata',
] as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the ledger as JSON or CSV',
  help: `Usage: tollgate export [--format json|csv] [--out FILE] [--since 7d] [--user ID] [--tenant ID] [--currency CODE [--rates FILE|ecb]] [--db PATH]

Writes every record of the ledger (oldest first) as JSON or CSV, page by page, so a ledger of
any size is exported in constant memory. Money is exact: costUsdExact is a decimal string. With
--currency, each record also has costInCurrency (rounded once to the currency's minor unit):
JSON names the rate and its date in a currency block, CSV in the fxRate and fxRateDate columns.

Options:
  --format F     json (default) or csv
  --out FILE     write to FILE (atomically: complete or not at all); default standard output
  --since WHEN   records since a duration ago (30m, 12h, 7d, 2w) or a date; default: all
  --user ID      only this user's records
  --tenant ID    only this tenant's records
  --db PATH      the SQLite ledger or a postgres:// URL (default: $TOLLGATE_DB, else
                 outputs/tollgate.db)
  --progress     show a progress bar on stderr even when it is not a terminal
${CURRENCY_HELP}  -h, --help     this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      {
        format: { type: 'string' },
        out: { type: 'string' },
        since: { type: 'string' },
        user: { type: 'string' },
        tenant: { type: 'string' },
        db: { type: 'string' },
        progress: { type: 'boolean' },
        ...CURRENCY_OPTIONS,
      },
      { min: 0, max: 0 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const format = text(args, 'format') ?? 'json';
    if (format !== 'json' && format !== 'csv') {
      throw new UsageError(`--format: expected json or csv, got ${JSON.stringify(format)}`);
    }
    const out = text(args, 'out');
    if (out === '') throw new UsageError('--out: expected a file name, got ""');
    const since = text(args, 'since');
    const user = text(args, 'user');
    const tenant = text(args, 'tenant');
    const filter: RecordFilter = {
      ...(since === undefined ? {} : { from: sinceToEpoch(since, io.now()) }),
      ...(user === undefined ? {} : { userId: user }),
      ...(tenant === undefined ? {} : { tenantId: tenant }),
    };
    const currency = await converterFromFlags(text(args, 'currency'), text(args, 'rates'), io.env);
    const store = await openLedger(dbPath(text(args, 'db'), io.env), { mustExist: true });
    try {
      const showProgress = args.values.progress === true || io.stderr.isTTY === true;
      if (out === undefined) {
        await exportTo(io.stdout, store, filter, format, showProgress ? io : undefined, currency);
        return 0;
      }
      const count = await exportToFile(
        resolve(out),
        store,
        filter,
        format,
        showProgress ? io : undefined,
        currency,
      );
      await write(io.stderr, `${plural(count, 'record')} written to ${resolve(out)}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/**
 * Writes to a temporary file beside `path`, renamed over it once complete. The file is created
 * before the ledger is read, so a folder that cannot be written fails at once, not after the
 * whole export.
 */
async function exportToFile(
  path: string,
  store: Store,
  filter: RecordFilter,
  format: 'json' | 'csv',
  progress: Io | undefined,
  currency: CurrencyConverter | undefined,
): Promise<number> {
  const temporary = join(dirname(path), `.${process.pid}-${Date.now()}.export.tmp`);
  let fd: number;
  try {
    // Else the rename at the end would fail, after the whole export.
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw new CommandError(`cannot write ${path}: it is a folder (give --out a file name)`);
    }
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(temporary, 'wx');
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError(`cannot write ${path}: ${fileProblem(error)}`);
  }
  const file = createWriteStream(temporary, { fd });
  // A write failing while the ledger is read (a full disk) is an 'error' event: without a
  // listener it would end the process with a stack trace. write() and finished() report it.
  file.on('error', () => {});
  try {
    const count = await exportTo(file, store, filter, format, progress, currency);
    file.end();
    await finished(file);
    renameSync(temporary, path);
    return count;
  } catch (error) {
    file.destroy();
    rmSync(temporary, { force: true });
    if (error instanceof CommandError) throw error;
    const fsError = typeof (error as { syscall?: unknown }).syscall === 'string';
    throw new CommandError(
      fsError
        ? `cannot write ${path}: ${fileProblem(error)}`
        : `export failed: ${firstLine(error)}`,
    );
  }
}

/**
 * A file-system error without the temporary file's name, which means nothing to the user:
 * `EACCES: permission denied, open '/x/.123.export.tmp'` is `permission denied (EACCES)`.
 */
function fileProblem(error: unknown): string {
  const { code } = error as { code?: unknown };
  const reason = /^[A-Z]+: ([^,]+),/.exec(firstLine(error))?.[1];
  return reason && typeof code === 'string' ? `${reason} (${code})` : firstLine(error);
}

/** Streams every matching record; returns how many. */
async function exportTo(
  stream: NodeJS.WritableStream,
  store: Store,
  filter: RecordFilter,
  format: 'json' | 'csv',
  progress: Io | undefined,
  currency: CurrencyConverter | undefined,
): Promise<number> {
  let bar: ProgressBar | undefined;
  if (progress) {
    const [all] = await store.summarize({ ...filter, groupBy: 'none' });
    bar = new ProgressBar(progress.stderr, all?.calls ?? 0, 'export');
  }
  await write(
    stream,
    format === 'csv'
      ? `${[...COLUMNS, ...(currency ? CSV_CURRENCY_COLUMNS : [])].join(',')}\r\n`
      : `{"exportedAt":${JSON.stringify(new Date().toISOString())},${currency ? `"currency":${JSON.stringify(currencyInfo(currency))},` : ''}"records":[`,
  );
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await store.query({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) });
    const lines = page.records.map((record, i) =>
      format === 'csv'
        ? csvLine(record, currency)
        : `${count + i === 0 ? '\n' : ',\n'}${jsonLine(record, currency)}`,
    );
    if (lines.length > 0) await write(stream, lines.join(''));
    count += page.records.length;
    bar?.tick(page.records.length);
    cursor = page.nextCursor;
  } while (cursor);
  await write(stream, format === 'csv' ? '' : '\n]}\n');
  bar?.finish();
  return count;
}

/** One record as JSON; in a currency, with `costInCurrency` after `costUsdExact`. */
function jsonLine(record: LedgerRecord, currency: CurrencyConverter | undefined): string {
  const { metadata, ...row } = recordJson(record);
  const converted = currency ? { costInCurrency: currency.amount(record.costFemto) } : {};
  return JSON.stringify({ ...row, ...converted, metadata }, (_, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

function csvLine(record: LedgerRecord, currency: CurrencyConverter | undefined): string {
  const row = recordJson(record) as Record<string, unknown>;
  const fields = COLUMNS.map((column) => csvField(row[column]));
  if (currency) fields.push(...csvCurrencyFields(currency, record.costFemto));
  return `${fields.join(',')}\r\n`;
}
