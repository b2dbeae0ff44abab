/** What every command shares: its streams, argument parsing, and the ledger it opens. */
import { existsSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Store } from '../keep/types.js';

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
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : firstLine(error));
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
  if (/^\d{4}-\d{2}-\d{2}/.test(since)) {
    const at = Date.parse(since);
    if (Number.isFinite(at)) return at;
  }
  throw new UsageError(
    `--since: expected a duration (7d, 12h, 30m, 2w) or a date, got ${JSON.stringify(since)}`,
  );
}

/** The ledger path: `--db`, else `TOLLGATE_DB`, else outputs/tollgate.db. */
export function dbPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.TOLLGATE_DB || 'outputs/tollgate.db');
}

/** A failure that is not the arguments' fault: one line on stderr, exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * Opens the SQLite ledger; the driver is loaded only by the commands that need it. Reading
 * commands ask `mustExist`, so a mistyped path is an error, not a new empty ledger.
 */
export async function openLedger(
  path: string,
  options: { mustExist?: boolean } = {},
): Promise<Store> {
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
    throw new CommandError(`no ledger at ${path} (set --db or TOLLGATE_DB)`);
  }
  const { createSqliteStore } = await import('../sqlite/index.js');
  return createSqliteStore({ path });
}

/** Writes, waiting when the stream asks to (a large export must not buffer in memory). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}
