/**
 * Budget rules and rate limits kept in a JSON file beside the ledger, so that `tollgate budgets
 * set-user` and changes made through the API survive a restart. The ledger contract has no place
 * for configuration yet; when it does, this file is what moves there.
 *
 * Several processes edit the file (the CLI, one or more servers): each change is a
 * read-modify-write under a lock file (`updateConfigFile`), so none overwrites another's, and a
 * running server follows the file (`watchConfigFile`), so a change made elsewhere reaches it.
 *
 * ```json
 * { "version": 1, "budgets": [{ "id": "user:alice:day", "scope": { "kind": "user", "id": "alice" },
 *   "window": "day", "limitUsd": 5, "mode": "hard" }], "rateLimits": [] }
 * ```
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  type Stats,
  statSync,
  unwatchFile,
  watchFile,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigurationError, describe } from '../errors.js';
import { type BudgetManager, type BudgetRule, validateRule } from '../react/budgets/index.js';
import type { RateLimit } from '../react/rate-limit.js';
import { writeFileAtomic } from '../show/export.js';
import { RateLimitList } from './rate-limit-list.js';
import type { ConfigChange } from './types.js';

/** What `<ledger>.config.json` holds: the budget rules and rate limits set through the API or the CLI. */
export interface ServerConfig {
  budgets: BudgetRule[];
  rateLimits: RateLimit[];
}

/**
 * The configuration file of a ledger: `outputs/tollgate.db` → `outputs/tollgate.config.json`.
 *
 * @example
 * configPathFor('outputs/tollgate.db'); // 'outputs/tollgate.config.json'
 */
export function configPathFor(dbPath: string): string {
  return `${dbPath.replace(/\.(db|sqlite3?)$/i, '')}.config.json`;
}

/**
 * Reads and validates the file; a missing file is an empty configuration. A bad rule throws
 * `ConfigurationError` naming the file and the field.
 *
 * @example
 * const { budgets: rules, rateLimits } = readConfigFile('outputs/tollgate.config.json');
 * const manager = new BudgetManager({ store, rules });
 */
export function readConfigFile(path: string): ServerConfig {
  if (!existsSync(path)) return { budgets: [], rateLimits: [] };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigurationError(`${path}: not valid JSON`, { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigurationError(`${path}: expected an object, got ${describe(data)}`);
  }
  const { budgets = [], rateLimits = [] } = data as Record<string, unknown>;
  if (!Array.isArray(budgets) || !Array.isArray(rateLimits)) {
    throw new ConfigurationError(`${path}: budgets and rateLimits must be arrays`);
  }
  try {
    return {
      budgets: budgets.map((rule) => validateRule(rule)),
      rateLimits: new RateLimitList(rateLimits as RateLimit[]).listLimits(),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(`${path}: ${message}`, { cause: error });
  }
}

/** Writes the file atomically (a reader never sees half of it). */
export function writeConfigFile(path: string, config: ServerConfig): void {
  const body = { version: 1, budgets: config.budgets, rateLimits: config.rateLimits };
  writeFileAtomic(path, `${JSON.stringify(body, null, 2)}\n`);
}

/** Options of `updateConfigFile`. */
export interface UpdateConfigOptions {
  /** How long to wait for another process's lock before failing (default 5,000 ms). */
  lockWaitMs?: number;
  /**
   * A lock older than this is taken to be left by a process that died mid-update, and is taken
   * over (default 10,000 ms; an update holds the lock for a few milliseconds).
   */
  staleLockMs?: number;
}

/**
 * Reads the file, applies `update` and writes the result, holding `<path>.lock` meanwhile, so
 * that concurrent updates from several processes all land (none overwrites another's). Throws
 * `ConfigurationError` for a bad file (nothing written) or a lock that stays taken.
 *
 * @example
 * createHandler({ store, auth,
 *   onChange: (change) => updateConfigFile(path, (config) => applyChange(config, change)) });
 */
export async function updateConfigFile(
  path: string,
  update: (config: ServerConfig) => ServerConfig,
  options: UpdateConfigOptions = {},
): Promise<ServerConfig> {
  const release = await lock(path, options);
  try {
    const next = update(readConfigFile(path));
    writeConfigFile(path, next);
    return next;
  } finally {
    release();
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function lock(path: string, options: UpdateConfigOptions): Promise<() => void> {
  const lockPath = `${path}.lock`;
  const waitMs = options.lockWaitMs ?? 5_000;
  const staleMs = options.staleLockMs ?? 10_000;
  const deadline = Date.now() + waitMs;
  mkdirSync(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx'); // fails if the file exists: the lock is someone's
      const owner = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
      writeSync(fd, owner);
      closeSync(fd);
      // Removed only if still ours: a lock taken over as stale belongs to its new holder.
      return () => {
        if (readIfExists(lockPath) === owner) rmSync(lockPath, { force: true });
      };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConfigurationError(`${path}: cannot create ${lockPath}`, { cause });
      }
    }
    let age: number;
    try {
      age = Date.now() - statSync(lockPath).mtimeMs;
    } catch {
      continue; // released between the two calls: try again at once
    }
    if (age > staleMs) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConfigurationError(
        `${path}: could not take ${lockPath} within ${waitMs} ms (another process is updating the file; if none is, remove the lock)`,
      );
    }
    await sleep(5 + Math.random() * 10);
  }
}

/**
 * Follows the file: `onLoad` receives its validated contents each time it changes (checked
 * every `intervalMs`, default 500 ms; polling also sees atomic replacements). A bad file goes
 * to `onError` and changes nothing: the last good configuration stays (so does an error thrown
 * by `onLoad`). Returns a stop function.
 *
 * @example
 * const stop = watchConfigFile(path, (config) => applyConfig(config, { budgets: manager }));
 */
export function watchConfigFile(
  path: string,
  onLoad: (config: ServerConfig) => void,
  onError: (error: unknown) => void = (error) =>
    console.error('[tollgate] ignoring the changed configuration file:', error),
  intervalMs = 500,
): () => void {
  const listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    // A listener that threw here would be an uncaught exception: it goes to onError too.
    try {
      onLoad(readConfigFile(path));
    } catch (error) {
      onError(error);
    }
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}

/** What `applyConfig` brings in line with a configuration: a `BudgetManager`, a `RateLimitList`. */
export interface ConfigTargets {
  budgets?: Pick<BudgetManager, 'listRules' | 'setRule' | 'removeRule'> | undefined;
  rateLimits?: Pick<RateLimitList, 'listLimits' | 'setLimit' | 'removeLimit'> | undefined;
}

/**
 * Makes the rules and limits of running objects those of `config`: sets every one it holds,
 * removes the others. With `watchConfigFile`, a server follows changes made by other processes.
 *
 * @example
 * watchConfigFile(path, (config) => applyConfig(config, { budgets: manager, rateLimits: limits }));
 */
export function applyConfig(config: ServerConfig, targets: ConfigTargets): void {
  const { budgets, rateLimits } = targets;
  if (budgets) {
    const kept = new Set(config.budgets.map((rule) => rule.id));
    for (const rule of budgets.listRules()) if (!kept.has(rule.id)) budgets.removeRule(rule.id);
    for (const rule of config.budgets) budgets.setRule(rule);
  }
  if (rateLimits) {
    const kept = new Set(config.rateLimits.map((limit) => limit.id));
    for (const limit of rateLimits.listLimits()) {
      if (!kept.has(limit.id)) rateLimits.removeLimit(limit.id);
    }
    for (const limit of config.rateLimits) rateLimits.setLimit(limit);
  }
}

/**
 * The configuration with one API change applied (same id: replaced).
 *
 * @example
 * const next = applyChange(config, { kind: 'budget', action: 'remove', id: 'user:alice:day' });
 */
export function applyChange(config: ServerConfig, change: ConfigChange): ServerConfig {
  if (change.kind === 'budget') {
    const budgets = config.budgets.filter(
      (rule) => rule.id !== (change.action === 'set' ? change.rule.id : change.id),
    );
    if (change.action === 'set') budgets.push(change.rule);
    return { ...config, budgets };
  }
  const rateLimits = config.rateLimits.filter(
    (limit) => limit.id !== (change.action === 'set' ? change.limit.id : change.id),
  );
  if (change.action === 'set') rateLimits.push(change.limit);
  return { ...config, rateLimits };
}
