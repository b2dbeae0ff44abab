/**
 * Budget rules and rate limits kept in a JSON file beside the ledger, so that `tollgate budgets
 * set-user` and changes made through the API survive a restart. The ledger contract has no place
 * for configuration yet; when it does, this file is what moves there.
 *
 * ```json
 * { "version": 1, "budgets": [{ "id": "user:alice:day", "scope": { "kind": "user", "id": "alice" },
 *   "window": "day", "limitUsd": 5, "mode": "hard" }], "rateLimits": [] }
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigurationError, describe } from '../errors.js';
import { type BudgetRule, validateRule } from '../react/budgets/index.js';
import type { RateLimit } from '../react/rate-limit.js';
import { writeFileAtomic } from '../show/export.js';
import { RateLimitList } from './rate-limit-list.js';
import type { ConfigChange } from './types.js';

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

/**
 * The configuration with one API change applied (same id: replaced).
 *
 * @example
 * createHandler({ store, auth, onChange: (change) => writeConfigFile(path, (config = applyChange(config, change))) });
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
