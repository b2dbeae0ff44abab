import { z } from 'zod';
import { InvalidPriceOverrideError } from '../errors.js';
import type { ServiceTier } from '../usage/types.js';
import { type CompiledPrice, type CompiledUnit, MAX_EXACT_PRICE } from './catalog.js';
import { decimalToScaled } from './money.js';

/**
 * Price multipliers per service tier, applied to the model's standard (list) price.
 *
 * @example
 * const factors: TierFactors = { priority: 1.75, flex: 0.5 };
 */
export type TierFactors = Partial<Record<ServiceTier, number>>;

/**
 * How service tiers are priced when no tier price is given for the model (a `model@tier`
 * entry in the price overrides, see `PricerOptions.overrides`). The bundled
 * @pydantic/genai-prices catalog (0.1.x) has no Flex, Batch or Priority prices for Gemini, so
 * these factors price them.
 *
 * @example
 * new Pricer({ serviceTiers: { factors: { priority: 1.75 }, models: { 'gemini-2.5-pro': { priority: 2 } } } });
 */
export interface ServiceTierPricing {
  /** Factors for every model (merged over `SERVICE_TIER_FACTORS.factors`). */
  factors?: TierFactors;
  /** Factors for one model, by catalog model id (e.g. `gemini-2.5-pro`); win over `factors`. */
  models?: Record<string, TierFactors>;
}

/**
 * The default tier factors, kept current with Google's published pricing:
 *
 * | tier | factor | source |
 * |---|---|---|
 * | standard | 1 | list price |
 * | flex | 0.5 | Gemini API pricing (Flex: 50% of Standard, announced 2026-04-02); Vertex Flex PayGo |
 * | batch | 0.5 | Gemini API Batch API and Vertex batch inference: 50% of Standard |
 * | priority | 1.8 | Google: Priority costs 75% to 100% more than Standard depending on the model; Vertex Priority PayGo lists 1.8× Standard for Gemini 2.5 and 3 |
 * | provisioned | 1 | list price; prepaid capacity (see `PricerOptions.provisioned`) |
 *
 * Checked against ai.google.dev/gemini-api/docs/pricing and
 * cloud.google.com/vertex-ai/generative-ai/pricing on 2026-12-07. A model whose Priority
 * premium differs goes in `models`; users override any factor with
 * `PricerOptions.serviceTiers`, or give exact tier prices as `model@tier` price overrides.
 *
 * Worked numbers, gemini-3-flash-preview ($0.50 input, $3 output per Mtok): 11 prompt and 51
 * output tokens cost $0.0001585 at Standard, $0.00007925 at Flex or Batch, $0.0002853 at Priority.
 *
 * @example
 * SERVICE_TIER_FACTORS.factors.flex; // 0.5
 * priceUsage({ ...usage, serviceTier: 'flex' }, 'gemini-3-flash-preview').totalUsd; // half the list price
 */
export const SERVICE_TIER_FACTORS: {
  readonly checked: string;
  readonly sources: readonly string[];
  readonly factors: Readonly<Record<ServiceTier, number>>;
  readonly models: Readonly<Record<string, TierFactors>>;
} = {
  checked: '2026-12-07',
  sources: [
    'https://ai.google.dev/gemini-api/docs/pricing',
    'https://cloud.google.com/vertex-ai/generative-ai/pricing',
  ],
  factors: { standard: 1, flex: 0.5, batch: 0.5, priority: 1.8, provisioned: 1 },
  models: {},
};

/** Factors are exact decimals with at most this many places (1.75, 0.5, 1.8). */
const FACTOR_SCALE = 6;
const FACTOR_ONE = 10n ** BigInt(FACTOR_SCALE);
const FACTOR_ONE_NUMBER = 10 ** FACTOR_SCALE;

const factor = z
  .number()
  .finite()
  .nonnegative()
  .max(1000)
  .refine(hasFewPlaces, {
    message: `at most ${FACTOR_SCALE} decimal places`,
  });

function hasFewPlaces(n: number): boolean {
  const text = String(n);
  const dot = text.indexOf('.');
  return !text.includes('e') && (dot < 0 || text.length - dot - 1 <= FACTOR_SCALE);
}

const factorsSchema = z
  .object({
    standard: factor.optional(),
    flex: factor.optional(),
    batch: factor.optional(),
    priority: factor.optional(),
    provisioned: factor.optional(),
  })
  .strict();

const pricingSchema = z
  .object({
    factors: factorsSchema.optional(),
    models: z.record(z.string().min(1), factorsSchema).optional(),
  })
  .strict();

/**
 * The tier factors in force: the defaults with the user's `serviceTiers` over them, as exact
 * millionths. Throws `InvalidPriceOverrideError` naming the field for a bad factor.
 */
export class TierTable {
  private readonly factors: Record<ServiceTier, number>;
  private readonly models = new Map<string, Partial<Record<ServiceTier, number>>>();

  constructor(options?: ServiceTierPricing) {
    const parsed = pricingSchema.safeParse(options ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((issue) => `serviceTiers.${issue.path.map(String).join('.')}: ${issue.message}`)
        .join('; ');
      throw new InvalidPriceOverrideError(`Invalid service tier factors: ${problems}`);
    }
    const merged = { ...SERVICE_TIER_FACTORS.factors, ...stripUndefined(parsed.data.factors) };
    this.factors = {
      standard: micro(merged.standard),
      flex: micro(merged.flex),
      batch: micro(merged.batch),
      priority: micro(merged.priority),
      provisioned: micro(merged.provisioned),
    };
    const models = { ...SERVICE_TIER_FACTORS.models, ...parsed.data.models };
    for (const [model, factors] of Object.entries(models)) {
      const exact: Partial<Record<ServiceTier, number>> = {};
      for (const [tier, value] of Object.entries(factors)) {
        if (value !== undefined) exact[tier as ServiceTier] = micro(value);
      }
      this.models.set(model.toLowerCase(), exact);
    }
  }

  /** The factor of `tier` for `modelId`, in millionths (1,000,000 = list price). */
  factorOf(modelId: string, tier: ServiceTier): number {
    if (this.models.size === 0) return this.factors[tier];
    return this.models.get(modelId)?.[tier] ?? this.factors[tier];
  }
}

function stripUndefined(factors: TierFactors | undefined): TierFactors {
  const out: TierFactors = {};
  for (const [tier, value] of Object.entries(factors ?? {})) {
    if (value !== undefined) out[tier as ServiceTier] = value;
  }
  return out;
}

/** A factor in millionths: at most 1000 × 10^6, an exact number. */
function micro(value: number): number {
  return Number(decimalToScaled(value, FACTOR_SCALE));
}

const scaledCache = new WeakMap<CompiledPrice, Map<number, CompiledPrice>>();

/**
 * A compiled price with every unit price multiplied by `factorMicro / 10^6`, exactly: catalog
 * prices are whole femto-dollars per token, multiples of 10^6 for any price with at most 9
 * decimals in $/Mtok, so 0.5 and 1.8 never round; a price that does not divide is rounded half
 * up to a whole femto-dollar per unit. Memoized per (price, factor).
 */
export function scalePrice(compiled: CompiledPrice, factorMicro: number): CompiledPrice {
  if (factorMicro === FACTOR_ONE_NUMBER) return compiled;
  let byFactor = scaledCache.get(compiled);
  if (!byFactor) {
    byFactor = new Map();
    scaledCache.set(compiled, byFactor);
  }
  const cached = byFactor.get(factorMicro);
  if (cached) return cached;
  const scale = (price: number): number => {
    const product = BigInt(price) * BigInt(factorMicro);
    let scaled = product / FACTOR_ONE;
    if ((product % FACTOR_ONE) * 2n >= FACTOR_ONE) scaled += 1n;
    if (scaled > BigInt(MAX_EXACT_PRICE)) {
      throw new RangeError('a service tier price is beyond what tollgate can price exactly');
    }
    return Number(scaled);
  };
  const units: CompiledUnit[] = compiled.units.map((unit) => ({
    ...unit,
    base: scale(unit.base),
    tiers: unit.tiers.map((tier) => ({ start: tier.start, price: scale(tier.price) })),
  }));
  const scaled: CompiledPrice = { ...compiled, units };
  byFactor.set(factorMicro, scaled);
  return scaled;
}
