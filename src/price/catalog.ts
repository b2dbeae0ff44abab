import {
  type ConditionalPrice,
  calcPrice,
  findProvider,
  type ModelInfo,
  type ModelPrice,
} from '@pydantic/genai-prices';
import { decimalToScaled } from './money.js';
import { refines, UNIT_BY_PRICE_KEY, UNITS, type UnitDef } from './units.js';

/** Where a unit's cost is reported in a `CostBreakdown`: input, cached input, output, reasoning. */
export const CostCategory = { Input: 0, CachedInput: 1, Output: 2, Reasoning: 3 } as const;
export type CostCategory = (typeof CostCategory)[keyof typeof CostCategory];

/**
 * The largest price, in femto-dollars per unit, held exactly as a number (both pricing paths
 * read it as one; a call whose total passes 2^53 goes to the bigint path). Per-request fees such
 * as the catalog's $12 per thousand requests (1.2 × 10^13 fUSD a request) are well within it.
 */
export const MAX_EXACT_PRICE = Number.MAX_SAFE_INTEGER;

/** One priced unit of a model, with prices in femto-dollars per unit. */
export interface CompiledUnit {
  /** Index into `UNITS` and the usage vector. */
  readonly index: number;
  readonly unit: UnitDef;
  readonly category: CostCategory;
  /** Femto-dollars per unit, an exact integer. */
  readonly base: number;
  /** Ascending by `start`; a tier applies when the prompt has MORE than `start` input tokens. */
  readonly tiers: readonly { start: number; price: number }[];
  /** Positions (in `CompiledPrice.units`) of the priced units that refine this one. */
  readonly refinedBy: readonly number[];
}

/** A model's price, compiled once: most specific units first, as the catalog computes them. */
export interface CompiledPrice {
  readonly units: readonly CompiledUnit[];
  /** Position of `output_tokens`, or -1. */
  readonly outputPosition: number;
  /** True when the model prices reasoning tokens separately from other output. */
  readonly pricesReasoning: boolean;
}

/** A model found in the overrides or the catalog. */
export interface ResolvedModel {
  readonly modelId: string;
  readonly providerId: string;
  readonly source: 'override' | 'catalog';
  /** The price in force at epoch ms `at` (catalog prices can change on a date or by time of day). */
  priceAt(at: number): CompiledPrice;
}

const compiledCache = new WeakMap<ModelPrice, CompiledPrice>();

/** Compiles a catalog price into integer femto-dollar prices with the refinement graph. */
export function compilePrice(price: ModelPrice): CompiledPrice {
  const cached = compiledCache.get(price);
  if (cached) return cached;
  const picked: { index: number; value: NonNullable<ModelPrice[string]> }[] = [];
  for (const [priceKey, value] of Object.entries(price)) {
    const index = UNIT_BY_PRICE_KEY.get(priceKey);
    if (index !== undefined && value !== undefined) picked.push({ index, value });
  }
  picked.sort((a, b) => {
    const ua = UNITS[a.index] as UnitDef;
    const ub = UNITS[b.index] as UnitDef;
    const byDims = Object.keys(ub.dimensions).length - Object.keys(ua.dimensions).length;
    return byDims || ua.usageKey.localeCompare(ub.usageKey);
  });
  const units: CompiledUnit[] = picked.map(({ index, value }) => {
    const unit = UNITS[index] as UnitDef;
    // femto-dollars per unit = $/per × 10^15 / per
    const scale = 15 - (unit.per.toString().length - 1);
    const toFemto = (usd: number) => {
      const femto = decimalToScaled(usd, scale);
      if (femto > BigInt(MAX_EXACT_PRICE)) {
        throw new RangeError(
          `price ${usd} for ${unit.priceKey} is beyond what tollgate can price exactly`,
        );
      }
      return Number(femto);
    };
    const base = typeof value === 'number' ? value : value.base;
    const tiers =
      typeof value === 'number'
        ? []
        : [...value.tiers]
            .sort((a, b) => a.start - b.start)
            .map((tier) => ({ start: tier.start, price: toFemto(tier.price) }));
    return {
      index,
      unit,
      category: categoryOf(unit),
      base: toFemto(base),
      tiers,
      refinedBy: picked
        .map((other, position) => ({ other: UNITS[other.index] as UnitDef, position }))
        .filter(({ other }) => refines(other, unit))
        .map(({ position }) => position),
    };
  });
  const compiled: CompiledPrice = {
    units,
    outputPosition: units.findIndex((u) => u.unit.usageKey === 'output_tokens'),
    pricesReasoning: units.some((u) => u.category === CostCategory.Reasoning),
  };
  compiledCache.set(price, compiled);
  return compiled;
}

function categoryOf(unit: UnitDef): CostCategory {
  const { direction, token_type: tokenType } = unit.dimensions;
  if (direction === 'output') {
    return tokenType === 'reasoning' ? CostCategory.Reasoning : CostCategory.Output;
  }
  if (tokenType === 'cache_read' || tokenType === 'cache_write') return CostCategory.CachedInput;
  return CostCategory.Input;
}

/** The price in force at `date`, following the catalog's own rule (last matching constraint). */
export function selectPrice(prices: ModelInfo['prices'], date: Date): ModelPrice {
  if (!Array.isArray(prices)) return prices;
  for (let i = prices.length - 1; i >= 0; i--) {
    const candidate = prices[i] as ConditionalPrice;
    const constraint = candidate.constraint;
    if (constraint === undefined) return candidate.prices;
    if (constraint.type === 'start_date') {
      if (date >= new Date(constraint.start_date)) return candidate.prices;
    } else {
      const now =
        date.getUTCHours() * 3600 +
        date.getUTCMinutes() * 60 +
        date.getUTCSeconds() +
        date.getUTCMilliseconds() / 1000;
      const start = secondsOfDayUtc(constraint.start_time);
      const end = secondsOfDayUtc(constraint.end_time);
      const inside = end < start ? now >= start || now < end : now >= start && now < end;
      if (inside) return candidate.prices;
    }
  }
  return (prices[0] as ConditionalPrice).prices;
}

/** `"22:30:00+08:00"` → seconds after midnight UTC. */
function secondsOfDayUtc(time: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (!m) return 0;
  const local = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(`0.${m[4] ?? ''}`);
  const offset =
    m[5] === 'Z' ? 0 : (m[6] === '+' ? 1 : -1) * (Number(m[7]) * 60 + Number(m[8])) * 60;
  return (local - offset + 86_400) % 86_400;
}

function resolvedFrom(
  modelId: string,
  providerId: string,
  source: ResolvedModel['source'],
  prices: ModelInfo['prices'],
): ResolvedModel {
  if (!Array.isArray(prices)) {
    const compiled = compilePrice(prices);
    return { modelId, providerId, source, priceAt: () => compiled };
  }
  return {
    modelId,
    providerId,
    source,
    priceAt: (at) => compilePrice(selectPrice(prices, new Date(at))),
  };
}

/** A model name split into the catalog's model id and a provider taken from its prefix. */
export function parseModelName(
  model: string,
  provider?: string,
): { model: string; provider: string | undefined } {
  let name = model.trim();
  // Gemini's `models/gemini-2.5-flash` and Vertex's `projects/…/publishers/google/models/…`
  const models = name.lastIndexOf('models/');
  if (models >= 0) name = name.slice(models + 'models/'.length);
  const slash = name.indexOf('/');
  if (slash > 0) {
    const prefix = name.slice(0, slash);
    if (findProvider({ providerId: prefix })) {
      provider ??= prefix;
      name = name.slice(slash + 1);
    }
  }
  return { model: name.toLowerCase(), provider };
}

/**
 * Looks a model up in the bundled catalog (no network). The catalog's own matcher decides, so a
 * dated or suffixed id (`gemini-1.5-flash-002`) finds its family exactly as calcPrice would.
 */
export function lookupCatalog(model: string, provider?: string): ResolvedModel | null {
  const providerId = provider && findProvider({ providerId: provider }) ? provider : undefined;
  let found: ReturnType<typeof calcPrice>;
  try {
    found = calcPrice({}, model, providerId ? { providerId } : undefined);
  } catch {
    found = null;
  }
  if (!found) return null;
  return resolvedFrom(found.model.id, found.provider.id, 'catalog', found.model.prices);
}

/** A resolved model built from a user's override price. */
export function overrideModel(
  modelId: string,
  providerId: string,
  price: ModelPrice,
): ResolvedModel {
  return resolvedFrom(modelId, providerId, 'override', price);
}
