import { ConfigurationError, UnknownModelError } from '../errors.js';
import { parseServiceTier } from '../usage/tier.js';
import type { ServiceTier, TokenUsage } from '../usage/types.js';
import {
  type CompiledPrice,
  type CompiledUnit,
  CostCategory,
  lookupCatalog,
  overrideModel,
  parseModelName,
  type ResolvedModel,
} from './catalog.js';
import { femtoToUsd } from './money.js';
import { loadPriceOverrides, type PriceOverrides } from './overrides.js';
import { type ServiceTierPricing, scalePrice, TierTable } from './tiers.js';
import { U, usageVector } from './units.js';

/** The cost of one call. USD fields are the exact amounts rounded once; `exact` holds them. */
export interface CostBreakdown {
  /** False when the model is unknown: every amount is then 0 and must not be read as free. */
  priced: boolean;
  /** Non-cached input (audio and image at their own prices), and per-request fees. */
  inputUsd: number;
  /** Cache reads and cache writes. */
  cachedInputUsd: number;
  /** Output other than reasoning. */
  outputUsd: number;
  /** Reasoning (thinking) tokens, billed as output. */
  reasoningUsd: number;
  totalUsd: number;
  /** The exact total in femto-dollars (10^-15 USD): a number below 2^53, else a bigint. */
  totalFemto: number | bigint;
  /** The amounts in femto-dollars as bigints, exact. */
  exact: {
    input: bigint;
    cachedInput: bigint;
    output: bigint;
    reasoning: bigint;
    total: bigint;
  };
  /** The catalog (or override) model id that priced the call. */
  pricedAs?: string | undefined;
  /** The catalog provider that priced the call. */
  provider?: string | undefined;
  /** The long-context tier applied: 0 for the base price, else the tier's token threshold. */
  tierStart: number;
}

/**
 * Options of one pricing: the provider (when the model name is ambiguous) and the call's time (for dated prices).
 *
 * @example
 * priceUsage(usage, 'gemini-2.5-pro', { provider: 'google', timestamp: Date.parse('2025-06-01') });
 */
export interface PriceOptions {
  /** Provider id or alias (`google`, `gemini`, `vertex`, `openai`, `anthropic`, …). */
  provider?: string;
  /** When the call was made; selects dated catalog prices. Defaults to now. */
  timestamp?: Date | number;
}

/**
 * Options of `new Pricer(options)`: price overrides and strictness about unknown models.
 *
 * @example
 * new Pricer({ overrides: { 'my-finetune': { input_mtok: 0.5, output_mtok: 1.5 } }, strict: true });
 */
export interface PricerOptions {
  /**
   * Prices that win over the catalog: an object or the path of a JSON file. A key
   * `model@tier` (e.g. `gemini-2.5-pro@priority`) prices that service tier of the model exactly,
   * instead of its standard price times the tier's factor.
   */
  overrides?: PriceOverrides | string;
  /**
   * Service tier factors over the defaults (`SERVICE_TIER_FACTORS`: flex 0.5, batch 0.5,
   * priority 1.8), for every model or per model.
   */
  serviceTiers?: ServiceTierPricing;
  /**
   * How Provisioned Throughput calls (prepaid capacity) count: `list-price` (default) at the
   * standard price, so reports show what the traffic is worth; `zero` at $0, the marginal cost
   * of prepaid capacity. Either way the record says `prepaid: true`.
   */
  provisioned?: 'list-price' | 'zero';
  /** Throw `UnknownModelError` for an unknown model instead of returning an unpriced cost. */
  strict?: boolean;
  /** Most model names remembered (default 10,000); the memo is cleared when full. */
  maxMemoEntries?: number;
}

const leafScratch: number[] = [];

/**
 * Prices token usage from the bundled @pydantic/genai-prices catalog and user overrides.
 * Each (provider, model) is resolved once and memoized; pricing itself is integer arithmetic.
 */
export class Pricer {
  private readonly overrides: Map<string, ResolvedModel>;
  private readonly strict: boolean;
  private readonly memo = new Map<string, ResolvedModel | null>();
  private readonly memoByProvider = new Map<string, Map<string, ResolvedModel | null>>();
  private memoEntries = 0;
  private readonly maxMemoEntries: number;
  private readonly tiers: TierTable;
  /** `model@tier` overrides, keyed `model@tier`. */
  private readonly tierOverrides = new Map<string, ResolvedModel>();
  private readonly provisionedFree: boolean;

  constructor(options: PricerOptions = {}) {
    this.strict = options.strict ?? false;
    this.maxMemoEntries = options.maxMemoEntries ?? 10_000;
    this.tiers = new TierTable(options.serviceTiers);
    const provisioned = options.provisioned === undefined ? 'list-price' : options.provisioned;
    if (provisioned !== 'list-price' && provisioned !== 'zero') {
      throw new ConfigurationError(
        `provisioned: expected 'list-price' or 'zero', got ${JSON.stringify(provisioned)}`,
      );
    }
    this.provisionedFree = provisioned === 'zero';
    this.overrides = new Map();
    if (options.overrides !== undefined) {
      for (const [name, price] of Object.entries(loadPriceOverrides(options.overrides))) {
        const at = name.lastIndexOf('@');
        // Only a tier name after the `@`: Vertex model ids such as `claude-3-5-sonnet@20240620`
        // keep theirs.
        const tier = at > 0 ? parseServiceTier(name.slice(at + 1)) : undefined;
        const parsed = parseModelName(tier === undefined ? name : name.slice(0, at));
        const resolved = overrideModel(parsed.model, parsed.provider ?? 'override', price);
        if (tier === undefined) this.overrides.set(parsed.model, resolved);
        else this.tierOverrides.set(`${parsed.model}@${tier}`, resolved);
      }
    }
  }

  /** The model that would price calls to `model`, or null when nothing knows it. */
  resolve(model: string, provider?: string): ResolvedModel | null {
    let memo = this.memo;
    if (provider) {
      memo = this.memoByProvider.get(provider) ?? new Map();
      if (memo.size === 0) this.memoByProvider.set(provider, memo);
    }
    const memoized = memo.get(model);
    if (memoized !== undefined) return memoized;
    const parsed = parseModelName(model, provider);
    const resolved =
      this.overrides.get(parsed.model) ?? lookupCatalog(parsed.model, parsed.provider);
    if (++this.memoEntries > this.maxMemoEntries) {
      this.memo.clear();
      this.memoByProvider.clear();
      this.memoEntries = 1;
      if (provider) this.memoByProvider.set(provider, memo);
      memo.clear();
    }
    memo.set(model, resolved);
    return resolved;
  }

  /**
   * Prices one call's usage.
   *
   * Rules: cached input at the cache-read price; thinking tokens at the output price (or a
   * separate reasoning price where the catalog has one); audio, image and video input at their
   * own prices where the catalog has them; a long-context tier is chosen by the prompt's input
   * tokens and prices the whole request. Example, gemini-2.5-pro (base $1.25/$10 per Mtok, above
   * 200,000 prompt tokens $2.50/$15): 199,999 prompt + 1,000 output tokens cost
   * $0.24999875 + $0.01 = $0.25999875, while 200,001 + 1,000 cost $0.5000025 + $0.015 = $0.5150025.
   *
   * Service tier (`usage.serviceTier`): a `model@tier` price override when there is one, else
   * the standard price times the tier's factor (see `SERVICE_TIER_FACTORS`), long-context tiers
   * and cache prices included. Provisioned Throughput costs $0 with `provisioned: 'zero'`.
   */
  price(usage: TokenUsage, model: string, options: PriceOptions = {}): CostBreakdown {
    const at =
      options.timestamp === undefined
        ? Date.now()
        : options.timestamp instanceof Date
          ? options.timestamp.getTime()
          : options.timestamp;
    return this.priceCall(usage, model, options.provider, at);
  }

  /** `price` without an options object, for the tracker's hot path. */
  priceCall(usage: TokenUsage, model: string, provider: string | undefined, at: number): CallCost {
    const resolved = this.resolve(model, provider);
    if (!resolved) {
      if (this.strict) throw new UnknownModelError(model, provider);
      return UNPRICED_COST;
    }
    const tier = usage.serviceTier;
    if (tier === undefined || tier === 'standard') {
      return computeCost(usage, resolved.priceAt(at), resolved);
    }
    return this.priceTier(usage, resolved, tier, at);
  }

  private priceTier(
    usage: TokenUsage,
    resolved: ResolvedModel,
    tier: ServiceTier,
    at: number,
  ): CallCost {
    if (this.tierOverrides.size > 0) {
      const exact = this.tierOverrides.get(`${resolved.modelId}@${tier}`);
      if (exact) return computeCost(usage, exact.priceAt(at), resolved);
    }
    if (tier === 'provisioned' && this.provisionedFree) {
      return new CallCost(true, 0, 0, 0, 0, 0, 0, resolved.modelId, resolved.providerId);
    }
    const factor = this.tiers.factorOf(resolved.modelId, tier);
    return computeCost(usage, scalePrice(resolved.priceAt(at), factor), resolved);
  }
}

/** Femto-dollar amounts of one call: exact integers as numbers, or bigints past 2^53. */
type Femto = number | bigint;

/**
 * A call's cost. Amounts are kept as exact integer femto-dollars (numbers in the common case,
 * so pricing allocates no bigint); the USD and bigint views are computed when read.
 */
export class CallCost implements CostBreakdown {
  constructor(
    readonly priced: boolean,
    private readonly input: Femto,
    private readonly cachedInput: Femto,
    private readonly output: Femto,
    private readonly reasoning: Femto,
    /** Exact total in femto-dollars (a number when below 2^53). */
    readonly totalFemto: Femto,
    readonly tierStart: number,
    readonly pricedAs?: string,
    readonly provider?: string,
  ) {}

  get inputUsd(): number {
    return femtoToUsd(this.input);
  }
  get cachedInputUsd(): number {
    return femtoToUsd(this.cachedInput);
  }
  get outputUsd(): number {
    return femtoToUsd(this.output);
  }
  get reasoningUsd(): number {
    return femtoToUsd(this.reasoning);
  }
  get totalUsd(): number {
    return femtoToUsd(this.totalFemto);
  }
  get exact(): CostBreakdown['exact'] {
    return {
      input: BigInt(this.input),
      cachedInput: BigInt(this.cachedInput),
      output: BigInt(this.output),
      reasoning: BigInt(this.reasoning),
      total: BigInt(this.totalFemto),
    };
  }

  toJSON() {
    return {
      priced: this.priced,
      inputUsd: this.inputUsd,
      cachedInputUsd: this.cachedInputUsd,
      outputUsd: this.outputUsd,
      reasoningUsd: this.reasoningUsd,
      totalUsd: this.totalUsd,
      pricedAs: this.pricedAs,
      provider: this.provider,
      tierStart: this.tierStart,
    };
  }
}

/** The cost of a call whose model has no price: every amount 0, `priced: false`. */
export const UNPRICED_COST = new CallCost(false, 0, 0, 0, 0, 0, 0);

function computeCost(usage: TokenUsage, compiled: CompiledPrice, model: ResolvedModel): CallCost {
  const values = usageVector(usage);
  const promptTokens = values[U.input] as number;
  const leaves = leafScratch;
  let input = 0;
  let cachedInput = 0;
  let output = 0;
  let reasoning = 0;
  let tierStart = 0;
  let outputPrice = 0;
  const units = compiled.units;
  for (let i = 0; i < units.length; i++) {
    const unit = units[i] as CompiledUnit;
    let leaf = values[unit.index] as number;
    const refinedBy = unit.refinedBy;
    for (let j = 0; j < refinedBy.length; j++) leaf -= leaves[refinedBy[j] as number] as number;
    if (leaf < 0) leaf = 0;
    leaves[i] = leaf;
    let price = unit.base;
    const tiers = unit.tiers;
    for (let t = 0; t < tiers.length; t++) {
      const tier = tiers[t] as { start: number; price: number };
      if (promptTokens > tier.start) {
        price = tier.price;
        if (tier.start > tierStart) tierStart = tier.start;
      }
    }
    const cost = leaf * price;
    switch (unit.category) {
      case CostCategory.Input:
        input += cost;
        break;
      case CostCategory.CachedInput:
        cachedInput += cost;
        break;
      case CostCategory.Output:
        output += cost;
        if (i === compiled.outputPosition) outputPrice = price;
        break;
      default:
        reasoning += cost;
    }
  }
  // Without a separate reasoning price, thinking tokens sit in the output leaf at the output price.
  if (!compiled.pricesReasoning && compiled.outputPosition >= 0 && usage.reasoningTokens > 0) {
    const thinking = Math.min(usage.reasoningTokens, leaves[compiled.outputPosition] as number);
    output -= thinking * outputPrice;
    reasoning += thinking * outputPrice;
  }
  const total = input + cachedInput + output + reasoning;
  // Every term is a non-negative integer: a total within 2^53 proves no product or sum rounded.
  if (total <= Number.MAX_SAFE_INTEGER) {
    return new CallCost(
      true,
      input,
      cachedInput,
      output,
      reasoning,
      total,
      tierStart,
      model.modelId,
      model.providerId,
    );
  }
  return computeCostExactly(usage, compiled, model, tierStart);
}

/** The same computation in bigint, for the rare call above 2^53 femto-dollars (~$9). */
function computeCostExactly(
  usage: TokenUsage,
  compiled: CompiledPrice,
  model: ResolvedModel,
  tierStart: number,
): CallCost {
  const values = usageVector(usage);
  const promptTokens = values[U.input] ?? 0;
  const leaves = leafScratch;
  const sums = [0n, 0n, 0n, 0n];
  let outputPrice = 0n;
  compiled.units.forEach((unit, i) => {
    let leaf = values[unit.index] ?? 0;
    for (const position of unit.refinedBy) leaf -= leaves[position] ?? 0;
    leaves[i] = Math.max(leaf, 0);
    let price = BigInt(unit.base);
    for (const tier of unit.tiers) if (promptTokens > tier.start) price = BigInt(tier.price);
    if (i === compiled.outputPosition) outputPrice = price;
    sums[unit.category] = (sums[unit.category] ?? 0n) + BigInt(leaves[i] ?? 0) * price;
  });
  let [input = 0n, cachedInput = 0n, output = 0n, reasoning = 0n] = sums;
  if (!compiled.pricesReasoning && compiled.outputPosition >= 0 && usage.reasoningTokens > 0) {
    const thinking = BigInt(Math.min(usage.reasoningTokens, leaves[compiled.outputPosition] ?? 0));
    output -= thinking * outputPrice;
    reasoning += thinking * outputPrice;
  }
  const total = input + cachedInput + output + reasoning;
  return new CallCost(
    true,
    input,
    cachedInput,
    output,
    reasoning,
    total,
    tierStart,
    model.modelId,
    model.providerId,
  );
}

let sharedPricer: Pricer | undefined;

/**
 * The process-wide catalog pricer (no overrides, lenient), shared by `priceUsage` and every
 * tracker created without pricing options, so each model is resolved once per process rather
 * than once per tracker: a workflow run that creates a fresh tracker costs no catalog lookup.
 */
export function defaultPricer(): Pricer {
  sharedPricer ??= new Pricer();
  return sharedPricer;
}

/**
 * Prices one call's usage from the bundled catalog (see `Pricer.price` for the rules).
 * An unknown model returns `{ priced: false }` with zero amounts.
 *
 * @example
 * const usage = normalizeUsage({ promptTokenCount: 1000, candidatesTokenCount: 500, totalTokenCount: 1500 });
 * priceUsage(usage!, 'gemini-1.5-flash').totalUsd; // 0.000225 ($0.075 + $0.30 per 1M, ≤128k tier)
 */
export function priceUsage(
  usage: TokenUsage,
  model: string,
  options?: PriceOptions,
): CostBreakdown {
  return defaultPricer().price(usage, model, options);
}
