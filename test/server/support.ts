/**
 * A seeded ledger, credentials for every role and tenant, and a request helper: handlers are
 * tested by calling them with `new Request(...)`, no server (as hono's `app.request()`).
 */
import { SignJWT } from 'jose';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/keep/memory.js';
import type { LedgerRecord, QueryOptions, Store, SummaryOptions } from '../../src/keep/types.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { type RateLimit, RateLimiter } from '../../src/react/rate-limit.js';
import {
  createApiKey,
  createHandler,
  type Handler,
  type HandlerOptions,
} from '../../src/server/index.js';
import type { RateLimitControl } from '../../src/server/types.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** The handler's clock: 2026-11-23T12:00:00Z, a Monday. */
export const NOW = Date.UTC(2026, 10, 23, 12);
export const JWT_SECRET = 'a-test-secret-of-32-characters!!';

let n = 0;

/** A ledger record; cost in femto-dollars ($1 = 10^15). */
export function rec(parts: Partial<LedgerRecord>): LedgerRecord {
  n += 1;
  return {
    id: `r-${n}`,
    callId: `c-${n}`,
    timestamp: NOW - HOUR,
    sessionId: 's-1',
    agent: 'planner',
    model: 'gemini-2.5-flash',
    inputTokens: 1000,
    cacheReadTokens: 100,
    cacheWriteTokens: 0,
    outputTokens: 200,
    reasoningTokens: 50,
    toolUsePromptTokens: 0,
    totalTokens: 1200,
    priced: true,
    costFemto: 1_000_000_000_000n, // $0.001
    ...parts,
  };
}

/**
 * 12 calls: tenant acme (alice, bob) and globex (carol), over the last 10 days, one unpriced.
 * acme: alice 5 calls ($0.104), bob 4 ($0.003, one unpriced); globex: carol 3 ($0.009).
 */
export function seedRecords(): LedgerRecord[] {
  return [
    // alice (acme): 5 calls today and yesterday, thread t-a
    ...[1, 2, 3].map((h) =>
      rec({ userId: 'alice', tenantId: 'acme', threadId: 't-a', timestamp: NOW - h * HOUR }),
    ),
    rec({
      userId: 'alice',
      tenantId: 'acme',
      threadId: 't-a',
      agent: 'coder',
      timestamp: NOW - DAY,
    }),
    rec({
      userId: 'alice',
      tenantId: 'acme',
      threadId: 't-a',
      model: 'gemini-2.5-pro',
      agent: 'coder',
      costFemto: 100_000_000_000_000n, // $0.1
      timestamp: NOW - DAY - HOUR,
    }),
    // bob (acme): 4 calls over 10 days, one unpriced
    ...[2, 5, 9].map((d) =>
      rec({ userId: 'bob', tenantId: 'acme', threadId: 't-b', timestamp: NOW - d * DAY }),
    ),
    rec({
      userId: 'bob',
      tenantId: 'acme',
      threadId: 't-b',
      model: 'mystery-model',
      priced: false,
      costFemto: 0n,
      timestamp: NOW - 3 * HOUR,
    }),
    // carol (globex): 3 calls, $0.003 each
    ...[1, 4, 6].map((h) =>
      rec({
        userId: 'carol',
        tenantId: 'globex',
        threadId: 't-c',
        agent: 'researcher',
        costFemto: 3_000_000_000_000n,
        timestamp: NOW - h * HOUR,
      }),
    ),
  ];
}

/** Rate limits that can be listed and edited, validated by tollgate's own RateLimiter. */
export class EditableLimits implements RateLimitControl {
  private readonly limits = new Map<string, RateLimit>();
  listLimits(): RateLimit[] {
    return [...this.limits.values()];
  }
  setLimit(limit: RateLimit): RateLimit {
    // The real limiter validates; an invalid limit throws ConfigurationError.
    new RateLimiter({ limits: [limit] });
    if (limit.id === 'reserved') throw new ConfigurationError('id "reserved" is reserved');
    this.limits.set(limit.id, limit);
    return limit;
  }
  removeLimit(id: string): boolean {
    return this.limits.delete(id);
  }
}

export interface Fixture {
  store: Store;
  budgets: BudgetManager;
  limits: EditableLimits;
  handler: Handler;
  keys: { admin: string; viewer: string; acmeAdmin: string; acmeViewer: string; globex: string };
}

/** A handler over the seeded ledger, with a budget manager and editable rate limits. */
export async function fixture(options: Partial<HandlerOptions> = {}): Promise<Fixture> {
  const store = options.store ?? new MemoryStore();
  if (!options.store) await store.append(seedRecords());
  const budgets = new BudgetManager({ store, defaultDailyUserLimitUsd: null });
  const limits = new EditableLimits();
  const admin = createApiKey('admin');
  const viewer = createApiKey('viewer');
  const acmeAdmin = createApiKey('admin', 'acme');
  const acmeViewer = createApiKey('viewer', 'acme');
  const globex = createApiKey('admin', 'globex');
  const handler = createHandler({
    store,
    budgets,
    rateLimiter: limits,
    auth: {
      apiKeys: [admin, viewer, acmeAdmin, acmeViewer, globex].map((k) => k.record),
      jwt: { secret: JWT_SECRET },
    },
    now: () => NOW,
    summaries: { cacheTtlMs: 0 },
    // Fuzzing sends thousands of requests with one key: the per-key limit has its own tests.
    limits: { requestsPerMinute: false },
    onError: () => {},
    ...options,
  });
  return {
    store,
    budgets,
    limits,
    handler,
    keys: {
      admin: admin.key,
      viewer: viewer.key,
      acmeAdmin: acmeAdmin.key,
      acmeViewer: acmeViewer.key,
      globex: globex.key,
    },
  };
}

/** Calls the handler: `call(h, 'GET /api/usage/summary', { key })`. */
export async function call(
  handler: (request: Request) => Promise<Response>,
  line: string,
  init: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers loosely
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const [method, path] = line.split(' ') as [string, string];
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await handler(
    new Request(`http://tollgate.test${path}`, { method, headers, body }),
  );
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Prometheus text, not JSON.
  }
  return { status: response.status, body: parsed, headers: response.headers, text };
}

/** A signed HS256 token for the test secret. */
export function token(
  claims: Record<string, unknown>,
  options: { expiresAt?: number; secret?: string; issuedAt?: number } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(Math.floor((options.issuedAt ?? NOW) / 1000));
  if (options.expiresAt !== undefined) jwt.setExpirationTime(Math.floor(options.expiresAt / 1000));
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

/**
 * The same real store, its summaries and record queries seen on their way through (to count
 * them, or to act at the n-th): every other method and capability is the store's own.
 */
export function watched(
  store: Store,
  on: {
    summarize?: (options: SummaryOptions) => void;
    query?: (options: QueryOptions | undefined) => void;
  },
): Store {
  const seen = Object.create(store) as Store;
  seen.summarize = (options) => {
    on.summarize?.(options);
    return store.summarize(options);
  };
  seen.query = (options) => {
    on.query?.(options);
    return store.query(options);
  };
  return seen;
}
