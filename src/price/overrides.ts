import { readFileSync } from 'node:fs';
import type { ModelPrice } from '@pydantic/genai-prices';
import { z } from 'zod';
import { describe, InvalidPriceOverrideError } from '../errors.js';
import { MAX_EXACT_PRICE } from './catalog.js';
import { decimalToScaled } from './money.js';
import { UNITS } from './units.js';

const dollars = z.number().finite().nonnegative();

const priceValue = z.union([
  dollars,
  z
    .object({
      base: dollars,
      tiers: z.array(z.object({ start: z.number().int().nonnegative(), price: dollars }).strict()),
    })
    .strict(),
]);

const priceKeys = UNITS.map((unit) => unit.priceKey);

const modelPriceSchema = z
  .object(Object.fromEntries(priceKeys.map((key) => [key, priceValue.optional()])))
  .strict()
  .refine((price) => Object.values(price).some((value) => value !== undefined), {
    message: 'names no price',
  });

/**
 * User prices that win over the catalog, keyed by model id (matched exactly after the same
 * clean-up as lookups: lower case, `models/` and provider prefixes removed). Prices use the
 * catalog's keys and units: dollars per million tokens (`input_mtok`, `output_mtok`,
 * `cache_read_mtok`, `cache_write_mtok`, `input_audio_mtok`, …), dollars per thousand requests
 * (`requests_kcount`). A tiered price is `{ base, tiers: [{ start, price }] }`; a tier applies when
 * the prompt has more than `start` input tokens, and then prices the whole request.
 *
 * @example
 * { "my-finetune": { "input_mtok": 0.5, "output_mtok": 1.5, "cache_read_mtok": 0.05 } }
 */
export type PriceOverrides = Record<string, ModelPrice>;

export const priceOverridesSchema = z.record(z.string().min(1), modelPriceSchema);

/** Validates overrides given as an object, or reads and validates a JSON file at a path. */
export function loadPriceOverrides(source: PriceOverrides | string): PriceOverrides {
  let data: unknown = source;
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (cause) {
      throw new InvalidPriceOverrideError(`Cannot read price overrides file ${source}`, { cause });
    }
    try {
      data = JSON.parse(text);
    } catch (cause) {
      throw new InvalidPriceOverrideError(`Price overrides file ${source} is not valid JSON`, {
        cause,
      });
    }
  }
  const parsed = priceOverridesSchema.safeParse(data);
  if (!parsed.success) {
    const where = typeof source === 'string' ? ` in ${source}` : '';
    const problems = parsed.error.issues
      .map((issue) => {
        const path = issue.path.map(String).join('.') || '(root)';
        const keys = 'keys' in issue ? ` ${(issue.keys as string[]).join(', ')}` : '';
        return `${path}: ${issue.message}${keys}`;
      })
      .join('; ');
    throw new InvalidPriceOverrideError(`Invalid price overrides${where}: ${problems}`);
  }
  const overrides = parsed.data as PriceOverrides;
  const problems = unpriceable(overrides);
  if (problems.length > 0) {
    const where = typeof source === 'string' ? ` in ${source}` : '';
    throw new InvalidPriceOverrideError(`Invalid price overrides${where}: ${problems.join('; ')}`);
  }
  return overrides;
}

/** Femto-dollars per unit for each price key: $ per `per` units, at 15 - log10(per) decimals. */
const SCALE_BY_KEY = new Map(
  UNITS.map((unit) => [unit.priceKey, 15 - (unit.per.toString().length - 1)]),
);

/**
 * Prices that pass the schema but cannot be priced as written: above the largest exact price,
 * or positive yet below one femto-dollar per unit (priced as 0: a silent free model).
 */
function unpriceable(overrides: PriceOverrides): string[] {
  const problems: string[] = [];
  for (const [model, price] of Object.entries(overrides)) {
    for (const [key, value] of Object.entries(price)) {
      const scale = SCALE_BY_KEY.get(key);
      if (scale === undefined || value === undefined) continue;
      const check = (usd: number, path: string) => {
        const femto = decimalToScaled(usd, scale);
        if (femto > BigInt(MAX_EXACT_PRICE)) {
          problems.push(`${path}: too large to price exactly (got ${describe(usd)})`);
        } else if (femto === 0n && usd > 0) {
          problems.push(
            `${path}: below one femto-dollar per unit, would price as 0 (got ${describe(usd)})`,
          );
        }
      };
      if (typeof value === 'number') check(value, `${model}.${key}`);
      else {
        check(value.base, `${model}.${key}.base`);
        for (const [i, tier] of value.tiers.entries()) {
          check(tier.price, `${model}.${key}.tiers.${i}.price`);
        }
      }
    }
  }
  return problems;
}
