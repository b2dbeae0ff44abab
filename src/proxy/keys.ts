/**
 * The gateway's own keys: handed to clients in place of the provider's key, stored only as
 * SHA-256 hashes (the server's `hashApiKey`), each naming the user and tenant its calls are
 * charged to, with optional budgets and a rate limit of its own.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigurationError, describe } from '../errors.js';
import type { BudgetRule } from '../react/budgets/rules.js';
import type { RateLimit } from '../react/rate-limit.js';
import { hashApiKey } from '../server/auth.js';

/** A budget of one key: a `BudgetRule` without id and scope (it applies to the key's user). */
export type ProxyKeyBudget = Omit<BudgetRule, 'id' | 'scope'>;

/**
 * A key the gateway accepts: never the key itself, only its hash.
 *
 * @example
 * const record: ProxyKeyRecord = { id: 'ci', hash: hashApiKey('tgp_…'), userId: 'ci-bot', tenantId: 'acme',
 *   budgets: [{ window: 'day', limitUsd: 5, mode: 'hard' }], rateLimit: { requestsPerMinute: 60 } };
 */
export interface ProxyKeyRecord {
  /** Names the key in records (`metadata.key`) and rule ids; never secret. */
  id: string;
  /** `hashApiKey(key)`: `sha256:` and 64 hex digits. */
  hash: string;
  /** The user every call made with this key is charged to. */
  userId: string;
  /** The tenant, for tenant budgets and scoped reports. */
  tenantId?: string | undefined;
  /** Budgets of the key's user (rule ids `key:<id>:<n>`), checked before each call. */
  budgets?: ProxyKeyBudget[] | undefined;
  /** Requests and tokens per minute of the key's user (limit id `key:<id>`). */
  rateLimit?: { requestsPerMinute?: number; tokensPerMinute?: number } | undefined;
}

/** Who a call is charged to. */
export interface ProxyIdentity {
  /** The key id, or `passthrough:<8 hex of the provider key's hash>`. */
  readonly keyId: string;
  readonly userId: string | undefined;
  readonly tenantId: string | undefined;
}

/**
 * A new random gateway key and the record to keep. Show `key` to its owner once.
 *
 * @example
 * const { key, record } = createProxyKey({ userId: 'alice', tenantId: 'acme' });
 * createProxy({ store, keys: [record], upstreams: { gemini: { apiKey: process.env.GEMINI_API_KEY } } });
 */
export function createProxyKey(owner: Omit<ProxyKeyRecord, 'id' | 'hash'> & { id?: string }): {
  key: string;
  record: ProxyKeyRecord;
} {
  const key = `tgp_${randomBytes(24).toString('base64url')}`;
  const record: ProxyKeyRecord = {
    ...owner,
    id: owner.id ?? `key_${randomBytes(6).toString('hex')}`,
    hash: hashApiKey(key),
  };
  checkKey(record, 0);
  return { key, record };
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkKey(record: ProxyKeyRecord, i: number): Buffer {
  const where = `keys[${i}]`;
  if (typeof record !== 'object' || record === null) {
    throw new ConfigurationError(`${where}: expected a key record, got ${describe(record)}`);
  }
  if (typeof record.id !== 'string' || record.id === '') {
    throw new ConfigurationError(
      `${where}.id: expected a non-empty string, got ${describe(record.id)}`,
    );
  }
  const hex =
    typeof record.hash === 'string'
      ? (record.hash.startsWith('sha256:') ? record.hash.slice(7) : record.hash).toLowerCase()
      : '';
  if (!HEX64.test(hex)) {
    throw new ConfigurationError(
      `${where}.hash: expected hashApiKey(key) (sha256: and 64 hex digits), got ${describe(record.hash)}`,
    );
  }
  if (typeof record.userId !== 'string' || record.userId === '') {
    throw new ConfigurationError(
      `${where}.userId: expected a non-empty string, got ${describe(record.userId)}`,
    );
  }
  if (
    record.tenantId !== undefined &&
    (typeof record.tenantId !== 'string' || record.tenantId === '')
  ) {
    throw new ConfigurationError(
      `${where}.tenantId: expected a non-empty string, got ${describe(record.tenantId)}`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** The budget rules the keys carry (validated by the manager when set). */
export function keyBudgetRules(keys: readonly ProxyKeyRecord[]): BudgetRule[] {
  const rules: BudgetRule[] = [];
  for (const key of keys) {
    for (const [n, budget] of (key.budgets ?? []).entries()) {
      rules.push({ ...budget, id: `key:${key.id}:${n}`, scope: { kind: 'user', id: key.userId } });
    }
  }
  return rules;
}

/** The rate limits the keys carry. */
export function keyRateLimits(keys: readonly ProxyKeyRecord[]): RateLimit[] {
  const limits: RateLimit[] = [];
  for (const key of keys) {
    if (!key.rateLimit) continue;
    limits.push({ id: `key:${key.id}`, scope: { kind: 'user', id: key.userId }, ...key.rateLimit });
  }
  return limits;
}

/**
 * Looks a presented key up by its hash, then compares in constant time. Returns the identity,
 * or undefined for a key the gateway did not issue.
 */
export function keyRing(
  keys: readonly ProxyKeyRecord[],
): (key: string) => ProxyIdentity | undefined {
  const byHash = new Map<string, { digest: Buffer; identity: ProxyIdentity }>();
  const ids = new Set<string>();
  for (const [i, record] of keys.entries()) {
    const digest = checkKey(record, i);
    if (ids.has(record.id))
      throw new ConfigurationError(`keys[${i}].id: "${record.id}" is used twice`);
    ids.add(record.id);
    byHash.set(digest.toString('hex'), {
      digest,
      identity: { keyId: record.id, userId: record.userId, tenantId: record.tenantId },
    });
  }
  return (key) => {
    const digest = createHash('sha256').update(key).digest();
    const found = byHash.get(digest.toString('hex'));
    if (!found || !timingSafeEqual(found.digest, digest)) return undefined;
    return found.identity;
  };
}

/** The name of a client's own provider key in records: never the key, 8 hex of its hash. */
export function passThroughKeyId(key: string): string {
  return `passthrough:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
