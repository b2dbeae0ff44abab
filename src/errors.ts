/**
 * The tollgate error family. Every error carries a `Symbol.for` marker so that
 * `XError.isInstance(err)` holds even when two copies of the package are loaded
 * (a dependency bundling its own tollgate, a monorepo with two versions), where
 * `instanceof` would fail.
 */

import { createRequire } from 'node:module';

const MARKER = Symbol.for('tollgate.error');

function markerOf(name: string): symbol {
  return Symbol.for(`tollgate.error.${name}`);
}

/** Base class of every error tollgate throws on purpose. */
export class TollgateError extends Error {
  readonly [MARKER] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TollgateError';
  }

  /** True for any tollgate error, from this copy of the package or another. */
  static isInstance(value: unknown): value is TollgateError {
    return typeof value === 'object' && value !== null && MARKER in value;
  }
}

/** Declares the per-class marker and a typed `isInstance` for a subclass. */
function brand<T extends TollgateError>(ctor: abstract new (...args: never[]) => T, name: string) {
  const marker = markerOf(name);
  Object.defineProperty(ctor.prototype, marker, { value: true });
  return (value: unknown): value is T =>
    typeof value === 'object' && value !== null && marker in value;
}

/** Thrown by strict normalization when a usage field holds a value that cannot be a token count. */
export class InvalidUsageError extends TollgateError {
  /** Dotted path of the offending field, e.g. `usageMetadata.promptTokenCount`. */
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, reason: string) {
    super(`Invalid usage: ${field} = ${describe(value)}: ${reason}`);
    this.name = 'InvalidUsageError';
    this.field = field;
    this.value = value;
  }

  static override isInstance = brand(InvalidUsageError, 'InvalidUsageError');
}

/** Thrown by strict pricing when neither the overrides nor the catalog know a model. */
export class UnknownModelError extends TollgateError {
  readonly model: string;
  readonly provider: string | undefined;

  constructor(model: string, provider?: string) {
    super(
      `Unknown model "${model}"${provider ? ` for provider "${provider}"` : ''}: no price in the catalog or the overrides`,
    );
    this.name = 'UnknownModelError';
    this.model = model;
    this.provider = provider;
  }

  static override isInstance = brand(UnknownModelError, 'UnknownModelError');
}

/** Thrown when a hard budget is spent: by `checkBudget()`, `guard()` and the integrations. */
export class BudgetExceededError extends TollgateError {
  readonly limitUsd: number;
  readonly spentUsd: number;
  /** The agent whose call was refused, when known. */
  readonly agent: string | undefined;
  /** Which budget: `session` for a tracker's own budget; stores add `user:<id>` and others. */
  readonly scope: string;
  /** Held by calls in flight when a hard session budget refused a call's estimate. */
  readonly heldUsd: number | undefined;
  /** The refused call's estimated cost, when its estimate did not fit. */
  readonly estimateUsd: number | undefined;

  /**
   * The message says which case it is: spend passed the limit ("Budget exceeded"), spend is
   * exactly at the limit ("Budget used up", 100%: no further call may start), or the call's
   * estimate does not fit beside the spend and what calls in flight hold ("would exceed").
   *
   * @example
   * new BudgetExceededError({ limitUsd: 1, spentUsd: 1, agent: 'coder' }).message;
   * // 'Budget used up (session): spent $1.0000 of $1.0000 (100%); no further call may start; call by "coder" refused'
   */
  constructor(details: {
    limitUsd: number;
    spentUsd: number;
    agent?: string;
    scope?: string;
    heldUsd?: number;
    estimateUsd?: number;
  }) {
    const scope = details.scope ?? 'session';
    const spent = `spent ${money(details.spentUsd)} of ${money(details.limitUsd)}`;
    let head: string;
    if (details.estimateUsd !== undefined && details.spentUsd < details.limitUsd) {
      head =
        `Budget would be exceeded (${scope}): ${spent}, ${money(details.heldUsd ?? 0)} held by calls in flight; ` +
        `this call's estimated ${money(details.estimateUsd)} does not fit`;
    } else if (details.spentUsd === details.limitUsd) {
      head = `Budget used up (${scope}): ${spent} (100%); no further call may start`;
    } else head = `Budget exceeded (${scope}): ${spent}`;
    super(head + (details.agent ? `; call by "${details.agent}" refused` : ''));
    this.name = 'BudgetExceededError';
    this.limitUsd = details.limitUsd;
    this.spentUsd = details.spentUsd;
    this.agent = details.agent;
    this.scope = scope;
    this.heldUsd = details.heldUsd;
    this.estimateUsd = details.estimateUsd;
  }

  static override isInstance = brand(BudgetExceededError, 'BudgetExceededError');
}

/** Dollars with 4 decimals, or 3 significant digits below $0.0001 (estimates of tiny calls). */
function money(usd: number): string {
  return usd > 0 && usd < 0.0001 ? `$${usd.toPrecision(3)}` : `$${usd.toFixed(4)}`;
}

/** Thrown when a rate limit refuses a call; `retryAfterMs` says when it would pass. */
export class RateLimitExceededError extends TollgateError {
  readonly retryAfterMs: number;
  readonly scope: string;

  constructor(details: { retryAfterMs: number; scope: string; message?: string }) {
    super(
      details.message ??
        `Rate limit exceeded (${details.scope}); retry after ${details.retryAfterMs} ms`,
    );
    this.name = 'RateLimitExceededError';
    this.retryAfterMs = details.retryAfterMs;
    this.scope = details.scope;
  }

  static override isInstance = brand(RateLimitExceededError, 'RateLimitExceededError');
}

/** Thrown when a user-supplied price override file or object does not validate. */
export class InvalidPriceOverrideError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidPriceOverrideError';
  }

  static override isInstance = brand(InvalidPriceOverrideError, 'InvalidPriceOverrideError');
}

/** Thrown for invalid options passed to a tollgate constructor or function. */
export class ConfigurationError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }

  static override isInstance = brand(ConfigurationError, 'ConfigurationError');
}

/**
 * Thrown when a subpath needs an optional peer package that is not installed. The message says
 * exactly what to install; `packageName` and `install` carry it for tools. A subclass of
 * `ConfigurationError`: the fix is in the project's set-up, not in the call.
 *
 * @example
 * try { createSqliteStore(); }
 * catch (error) { if (MissingPeerError.isInstance(error)) console.error(error.install); }
 * // npm install better-sqlite3
 */
export class MissingPeerError extends ConfigurationError {
  /** The package to install, e.g. `better-sqlite3` (several are separated by spaces). */
  readonly packageName: string;
  /** Every package to install, e.g. `['@langchain/langgraph', '@langchain/core']`. */
  readonly packages: readonly string[];
  /** The command that installs it, e.g. `npm install better-sqlite3`. */
  readonly install: string;

  /**
   * @param feature what needs the package, e.g. `tollgate/sqlite` or `createMetrics`
   * @param packageName the npm package to install, or several
   */
  constructor(
    feature: string,
    packageName: string | readonly string[],
    options?: { cause?: unknown },
  ) {
    const packages = typeof packageName === 'string' ? [packageName] : [...packageName];
    const install = `npm install ${packages.join(' ')}`;
    const needs =
      packages.length === 1
        ? `the ${packages[0]} package, which is not installed`
        : `the ${packages.slice(0, -1).join(', ')} and ${packages.at(-1)} packages, which are not installed`;
    super(`${feature} needs ${needs}: ${install}`, options);
    this.name = 'MissingPeerError';
    this.packageName = packages.join(' ');
    this.packages = packages;
    this.install = install;
  }

  static override isInstance = brand(MissingPeerError, 'MissingPeerError');
}

/** Whether `error` says that a package could not be found (as opposed to failing as it loaded). */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

/**
 * Throws `MissingPeerError` now when `packageName` is not installed (resolved, not loaded), so a
 * set-up that will need it fails as it is made, not at its first use.
 */
export function requirePeer(feature: string, packageName: string): void {
  try {
    createRequire(import.meta.url).resolve(packageName);
  } catch (cause) {
    if (isModuleNotFound(cause)) throw new MissingPeerError(feature, packageName, { cause });
  }
}

/**
 * The error for an optional peer that failed to load: `MissingPeerError` when it is not installed,
 * else a `ConfigurationError` carrying why it would not load (a native build that failed, …).
 */
export function peerLoadError(feature: string, packageName: string, cause: unknown): TollgateError {
  if (isModuleNotFound(cause)) return new MissingPeerError(feature, packageName, { cause });
  return new ConfigurationError(`${feature} could not load ${packageName}: ${cause}`, { cause });
}

/**
 * Thrown when a store cannot serve an operation: Redis down, a connection lost, a command timed
 * out, a SQLite ledger that is closed or locked. `createResilientStore` catches it to fail open
 * or closed; with `failMode: 'closed'` it is what the caller sees instead of a budget decision.
 *
 * @example
 * try { await store.reserve(request); }
 * catch (error) { if (StoreUnavailableError.isInstance(error)) console.warn(error.store, 'down'); }
 */
export class StoreUnavailableError extends TollgateError {
  /** The store's name, e.g. `redis`, `sqlite`. */
  readonly store: string;
  /** The operation that failed, e.g. `reserve`. */
  readonly operation: string;

  constructor(store: string, operation: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`Store "${store}" is unavailable (${operation})${reason}`, options);
    this.name = 'StoreUnavailableError';
    this.store = store;
    this.operation = operation;
  }

  static override isInstance = brand(StoreUnavailableError, 'StoreUnavailableError');
}

/**
 * A currency that cannot be shown: an unknown ISO 4217 code, no rate for it, a rate that is not
 * a positive decimal, or rates that could not be loaded. Never a USD figure labelled otherwise.
 *
 * @example
 * try { currencyConverter({ currency: 'EUR', rates: {} }); }
 * catch (error) { if (CurrencyError.isInstance(error)) console.error(error.currency, error.reason); }
 */
export class CurrencyError extends TollgateError {
  readonly currency: string;
  readonly reason: 'unknown_currency' | 'missing_rate' | 'invalid_rate' | 'rates_unavailable';

  constructor(
    currency: string,
    reason: CurrencyError['reason'],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CurrencyError';
    this.currency = currency;
    this.reason = reason;
  }

  static override isInstance = brand(CurrencyError, 'CurrencyError');
}

/**
 * `scheme://user:password@host` with the credentials masked: error messages end up in logs, and a
 * refused webhook or Redis URL must not carry its password there.
 */
function withoutCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@"]*@/gi, '$1***@');
}

/** A short printable form of any value, for error messages (URL credentials masked). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(withoutCredentials(value));
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  try {
    const text = withoutCredentials(JSON.stringify(value));
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * Zod issues as `path: message (got value)`, joined with `; `: every bad field named with the
 * value it had. `rootLabel` names an issue of the whole value.
 *
 * @example
 * formatIssues({ limitUsd: -1 }, error); // 'limitUsd: <zod's message> (got -1)'
 */
export function formatIssues(
  root: unknown,
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  rootLabel = '(root)',
): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      const value = path ? valueAt(root, issue.path) : root;
      return `${path || rootLabel}: ${issue.message}${value === undefined ? '' : ` (got ${describe(value)})`}`;
    })
    .join('; ');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
