/** What every command shares: its streams, argument parsing, and the ledger it opens. */
import { existsSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Store } from '../keep/types.js';
import { isPostgresUrl, maskedUrl } from '../postgres/url.js';

/** The process, as a command sees it (tests pass their own). */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  now(): number;
}

export interface Command {
  name: string;
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Returns the exit code: 0 done, 1 failed, 2 wrong arguments (thrown as UsageError). */
  run(argv: string[], io: Io): Promise<number>;
}

/** Wrong arguments: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` parseArgs, strict, with `--help` on every command; a parse failure becomes a
 * UsageError with parseArgs' own (one-line) message.
 */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

export function parse(
  argv: string[],
  options: Options,
  positionals: { min: number; max: number; names?: string[] },
): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs explains at length how to pass a positional that starts with '-': keep the gist.
    const unknown = /^Unknown option '([^']+)'/.exec(firstLine(error));
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}`);
    // `--since -1d`, `--port -1`, `--since --user bob`: parseArgs' first line ("argument is
    // ambiguous.") drops the part that says what to do.
    const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(firstLine(error));
    if (ambiguous) {
      throw new UsageError(
        `${ambiguous[1]}: missing value (a value starting with '-' is written ${ambiguous[1]}=VALUE)`,
      );
    }
    throw new UsageError(firstLine(error));
  }
  const help = parsed.values.help === true;
  if (!help) {
    const count = parsed.positionals.length;
    if (count < positionals.min) {
      const missing = positionals.names?.slice(count, positionals.min).map((n) => `<${n}>`);
      throw new UsageError(`missing ${missing?.join(' ') ?? 'arguments'}`);
    }
    if (count > positionals.max) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`,
      );
    }
  }
  return {
    values: parsed.values as Parsed['values'],
    positionals: parsed.positionals,
    help,
  };
}

/** A string option's value (options are declared `type: 'string'`). */
export const text = (parsed: Parsed, name: string): string | undefined => {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
};

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: a duration back from now (`30m`, `12h`, `7d`, `2w`) or a date (`2026-11-01`,
 * ISO 8601). Returns epoch ms.
 *
 * @example
 * sinceToEpoch('7d', Date.parse('2026-11-23')); // Date.parse('2026-11-16')
 */
export function sinceToEpoch(since: string, now: number): number {
  const duration = /^(\d{1,6})([mhdw])$/.exec(since);
  if (duration) return now - Number(duration[1]) * (UNITS[duration[2] as string] as number);
  const at = isoDateToEpoch(since);
  if (at !== undefined) return at;
  throw new UsageError(
    `--since: expected a duration (7d, 12h, 30m, 2w) or a date, got ${JSON.stringify(since)}`,
  );
}

/**
 * An ISO 8601 date or date-time (`2026-11-01`, `2026-11-01T09:30`, `…:00Z`, `…+05:30`) as epoch
 * ms; undefined for anything else. Date.parse alone is not enough: past a leading date it falls
 * back to V8's lenient legacy parser (`2026-11-01 junk` is June 11, the "jun" in "junk"), and it
 * rolls an impossible day over (`2026-02-30` is March 2).
 */
function isoDateToEpoch(text: string): number | undefined {
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?))?$/.exec(
      text,
    );
  if (!iso) return undefined;
  const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  if (month < 1 || month > 12) return undefined;
  // The day must exist in its month: Date.UTC rolls 2026-02-30 over to March, which shows.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  // `2026-11-01 09:30` as people type it is the ISO `2026-11-01T09:30` (local time, as before).
  const at = Date.parse(iso[4] === undefined ? text : `${iso[1]}-${iso[2]}-${iso[3]}T${iso[4]}`);
  // NaN for an hour, minute or offset out of range (T25:00, +99:00).
  return Number.isFinite(at) ? at : undefined;
}

/**
 * The ledger: `--db`, else `TOLLGATE_DB`, else outputs/tollgate.db. A path is a SQLite file; a
 * `postgres://` URL is the Postgres ledger.
 */
export function dbPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  // `--db=` or `--db "$UNSET"`: not the default ledger, and not `.config.json` in the current
  // folder either (the rules file named after an empty path).
  if (flag === '')
    throw new UsageError('--db: expected a SQLite file or a postgres:// URL, got ""');
  return flag ?? (env.TOLLGATE_DB || 'outputs/tollgate.db');
}

/** The ledger as messages name it: a Postgres URL without its password. */
export function ledgerName(db: string): string {
  return isPostgresUrl(db) ? maskedUrl(db) : db;
}

/** A failure that is not the arguments' fault: one line on stderr, exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * Opens the ledger: Postgres for a `postgres://` URL, else the SQLite file. The driver is loaded
 * only by the commands that need it. Reading commands ask `mustExist`, so a mistyped path is an
 * error, not a new empty ledger.
 */
export async function openLedger(
  path: string,
  options: { mustExist?: boolean } = {},
): Promise<Store> {
  if (isPostgresUrl(path)) {
    const { createPostgresStore } = await import('../postgres/index.js');
    return createPostgresStore({ connectionString: path });
  }
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
    throw new CommandError(`no ledger at ${path} (set --db or TOLLGATE_DB)`);
  }
  const { createSqliteStore } = await import('../sqlite/index.js');
  return createSqliteStore({ path });
}

/**
 * Writes, waiting when the stream asks to (a large export must not buffer in memory). Rejects
 * when the stream fails or closes meanwhile: its 'drain' would never come (a file that cannot be
 * opened, a full disk), and the command would end with nothing said.
 */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  const state = stream as { destroyed?: boolean; errored?: Error | null };
  if (state.destroyed) return Promise.reject(state.errored ?? new Error('the output was closed'));
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(state.errored ?? new Error('the output was closed'));
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** `--port` (default `defaultPort`; 0 for a free one) and `--host` (default 127.0.0.1), checked. */
export function listenFlags(args: Parsed, defaultPort: number): { port: number; host: string } {
  const portText = text(args, 'port') ?? String(defaultPort);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) {
    throw new UsageError(`--port: expected 0 to 65535, got ${JSON.stringify(portText)}`);
  }
  const host = text(args, 'host') ?? '127.0.0.1';
  // An empty host would listen on every interface: the opposite of the safe default.
  if (host === '')
    throw new UsageError('--host: expected an interface (127.0.0.1, 0.0.0.0…), got ""');
  return { port, host };
}
