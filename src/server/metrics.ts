/**
 * Prometheus metrics (prom-client, loaded by this module only), each handler with its own
 * Registry. A failure here never reaches a tracked call or an API answer: telemetry is best
 * effort.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import type { UsageRecord } from '../account/record.js';
import { peerLoadError } from '../errors.js';
import type { LedgerRecord, Store } from '../keep/types.js';
import { femtoToUsd } from '../price/money.js';

/** Options of `createMetrics`: whether `/metrics` is public, and prom-client's process metrics. */
export interface MetricsOptions {
  /** Serve /metrics without credentials (default false). */
  public?: boolean;
  /** Also export prom-client's process metrics (default false). */
  defaultMetrics?: boolean;
}

/** One budget's spend as a fraction of its limit, for the utilization gauge. */
export interface BudgetUtilization {
  budget: string;
  ratio: number;
}

/**
 * Prometheus metrics fed by recorded calls (`observe`), served as text by the handler's `/metrics`.
 *
 * @example
 * const metrics = createMetrics();
 * tracker.on('usage', metrics.observe);
 */
export interface MetricsRegistry {
  readonly public: boolean;
  readonly registry: Prom.Registry;
  /** Counts one call: a tracker's `usage` event or a ledger record. Bound: pass it as is. */
  readonly observe: (record: UsageRecord | LedgerRecord) => void;
  /** Counts a call refused by a rate limit. */
  readonly observeRejection: (scope: string) => void;
  /** Where the budget utilization gauge reads its values at each scrape. */
  setBudgetSource(source: () => Promise<BudgetUtilization[]>): void;
  /**
   * Observes every record appended to `store` from now on (polling), for a server that reads a
   * ledger other processes write. Returns a function that stops it.
   */
  follow(store: Store, options?: { intervalMs?: number; from?: number }): () => void;
  /** The exposition text. */
  text(): Promise<string>;
  readonly contentType: string;
}

type TokenType = 'input' | 'output' | 'cached' | 'reasoning';

/**
 * Creates the metrics: `tollgate_tokens_total{model,agent,type}`,
 * `tollgate_cost_usd_total{model,agent}` (exact sums, rounded once at scrape),
 * `tollgate_budget_utilization_ratio{budget}`, `tollgate_rate_limit_rejections_total{scope}`.
 * `cached` tokens are part of `input`, `reasoning` part of `output`.
 *
 * @example
 * const metrics = createMetrics();
 * tracker.on('usage', metrics.observe);
 * const handler = createHandler({ store, auth, metrics });
 */
export function createMetrics(options: MetricsOptions = {}): MetricsRegistry {
  const prom = loadPromClient();
  const registry = new prom.Registry();
  if (options.defaultMetrics) prom.collectDefaultMetrics({ register: registry });
  const tokens = new prom.Counter({
    name: 'tollgate_tokens_total',
    help: 'Tokens of tracked LLM calls; cached is part of input, reasoning part of output.',
    labelNames: ['model', 'agent', 'type'] as const,
    registers: [registry],
  });
  // Exact femto-dollar sums per (model, agent), turned into USD once per scrape.
  const costs = new Map<string, { model: string; agent: string; femto: bigint }>();
  new prom.Counter({
    name: 'tollgate_cost_usd_total',
    help: 'Exact cost of tracked LLM calls in USD.',
    labelNames: ['model', 'agent'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { model, agent, femto } of costs.values()) {
        this.inc({ model, agent }, femtoToUsd(femto));
      }
    },
  });
  let budgetSource: (() => Promise<BudgetUtilization[]>) | undefined;
  new prom.Gauge({
    name: 'tollgate_budget_utilization_ratio',
    help: 'Spend in the current window of a budget divided by its limit.',
    labelNames: ['budget'] as const,
    registers: [registry],
    async collect() {
      if (!budgetSource) return;
      try {
        const values = await budgetSource();
        this.reset();
        for (const { budget, ratio } of values) this.set({ budget }, ratio);
      } catch {
        // A store that cannot answer leaves the last values: scraping must not fail.
      }
    },
  });
  const rejections = new prom.Counter({
    name: 'tollgate_rate_limit_rejections_total',
    help: 'Calls refused by a rate limit, by limit.',
    labelNames: ['scope'] as const,
    registers: [registry],
  });

  const add = (model: string, agent: string, type: TokenType, count: number) => {
    if (count > 0) tokens.inc({ model, agent, type }, count);
  };
  const observe = (record: UsageRecord | LedgerRecord): void => {
    try {
      const counts = 'usage' in record ? record.usage : record;
      const { model, agent } = record;
      add(model, agent, 'input', counts.inputTokens);
      add(model, agent, 'output', counts.outputTokens);
      add(model, agent, 'cached', counts.cacheReadTokens);
      add(model, agent, 'reasoning', counts.reasoningTokens);
      const femto =
        'costFemto' in record
          ? record.costFemto
          : record.cost.priced
            ? BigInt(record.cost.totalFemto)
            : 0n;
      const key = `${model}\u0000${agent}`;
      const held = costs.get(key);
      if (held) held.femto += femto;
      else costs.set(key, { model, agent, femto });
    } catch {
      // Telemetry never breaks the call it watches.
    }
  };

  return {
    public: options.public ?? false,
    registry,
    observe,
    observeRejection: (scope) => rejections.inc({ scope }),
    setBudgetSource(source) {
      budgetSource = source;
    },
    follow: (store, followOptions) => followStore(store, observe, followOptions),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/**
 * Polls the ledger for records from `from` on. Position is (timestamp, call ids seen at it):
 * the stores give no cursor after the last page, and a record that lands with an older
 * timestamp than the newest seen is not counted (counters are per process anyway).
 */
function followStore(
  store: Store,
  observe: (record: LedgerRecord) => void,
  options: { intervalMs?: number; from?: number } = {},
): () => void {
  const intervalMs = options.intervalMs ?? 5_000;
  let since = options.from ?? Date.now();
  let seenAtSince = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async () => {
    try {
      let cursor: string | undefined;
      do {
        const page = await store.query({
          from: since,
          limit: 5_000,
          ...(cursor ? { cursor } : {}),
        });
        for (const record of page.records) {
          if (record.timestamp === since && seenAtSince.has(record.callId)) continue;
          if (record.timestamp > since) {
            since = record.timestamp;
            seenAtSince = new Set();
          }
          seenAtSince.add(record.callId);
          observe(record);
        }
        cursor = page.nextCursor;
      } while (cursor && !stopped);
    } catch {
      // The next poll tries again.
    }
    if (!stopped) timer = setTimeout(poll, intervalMs).unref();
  };
  timer = setTimeout(poll, 0).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function loadPromClient(): typeof Prom {
  try {
    return createRequire(import.meta.url)('prom-client') as typeof Prom;
  } catch (error) {
    throw peerLoadError('createMetrics (tollgate/server)', 'prom-client', error);
  }
}
