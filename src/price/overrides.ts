import { readFileSync } from 'node:fs';
import type { ModelPrice } from '@pydantic/genai-prices';
import { z } from 'zod';
import { InvalidPriceOverrideError } from '../errors.js';
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
  return parsed.data as PriceOverrides;
}
