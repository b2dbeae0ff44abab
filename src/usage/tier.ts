import { describe } from '../errors.js';
import type { CountReader } from './counts.js';
import type { ServiceTier } from './types.js';

/** Vertex `trafficType` values and the tier each is billed at (a Map: no prototype keys). */
const TRAFFIC_TYPES: ReadonlyMap<string, ServiceTier> = new Map([
  ['ON_DEMAND', 'standard'],
  ['TRAFFIC_TYPE_UNSPECIFIED', 'standard'],
  ['ON_DEMAND_FLEX', 'flex'],
  ['ON_DEMAND_PRIORITY', 'priority'],
  ['PROVISIONED_THROUGHPUT', 'provisioned'],
]);

/** Service tier names (Gemini API `serviceTier`, any case, `SERVICE_TIER_` prefix or not). */
const TIER_NAMES: ReadonlyMap<string, ServiceTier> = new Map([
  ['STANDARD', 'standard'],
  ['UNSPECIFIED', 'standard'],
  ['FLEX', 'flex'],
  ['PRIORITY', 'priority'],
  ['BATCH', 'batch'],
  ['PROVISIONED', 'provisioned'],
]);

/** The spellings the APIs send, looked up as they are (no string is made for them). */
const EXACT_TIERS: ReadonlyMap<string, ServiceTier> = new Map([
  ['standard', 'standard'],
  ['flex', 'flex'],
  ['priority', 'priority'],
  ['batch', 'batch'],
  ['provisioned', 'provisioned'],
]);

/** Which dearer tier wins when two fields disagree (never under-charge). */
const RANK: Readonly<Record<ServiceTier, number>> = {
  flex: 0,
  batch: 0,
  standard: 1,
  provisioned: 2,
  priority: 3,
};

/** `TrafficType.ON_DEMAND_FLEX` (a Python enum's repr) → `ON_DEMAND_FLEX`, upper-cased. */
function enumName(value: string): string {
  const dot = value.lastIndexOf('.');
  return (dot >= 0 ? value.slice(dot + 1) : value).trim().toUpperCase();
}

/**
 * A service tier name as written by any Gemini client, or `undefined` when it is not one:
 * `flex`, `FLEX`, `SERVICE_TIER_FLEX`, `ServiceTier.FLEX`, `unspecified` (standard), `batch`,
 * `provisioned`.
 *
 * @example
 * parseServiceTier('SERVICE_TIER_PRIORITY'); // 'priority'
 * parseServiceTier('turbo'); // undefined
 */
export function parseServiceTier(value: unknown): ServiceTier | undefined {
  if (typeof value !== 'string') return undefined;
  const exact = EXACT_TIERS.get(value);
  if (exact !== undefined) return exact;
  let name = enumName(value);
  if (name.startsWith('SERVICE_TIER_')) name = name.slice('SERVICE_TIER_'.length);
  return TIER_NAMES.get(name);
}

/**
 * A Vertex `trafficType` as the tier it is billed at, or `undefined` when it is not a known
 * value: `ON_DEMAND` (and `TRAFFIC_TYPE_UNSPECIFIED`) standard, `ON_DEMAND_FLEX` flex,
 * `ON_DEMAND_PRIORITY` priority, `PROVISIONED_THROUGHPUT` provisioned. Any case.
 *
 * @example
 * trafficTypeTier('ON_DEMAND_FLEX'); // 'flex'
 */
export function trafficTypeTier(value: unknown): ServiceTier | undefined {
  if (typeof value !== 'string') return undefined;
  return TRAFFIC_TYPES.get(value) ?? TRAFFIC_TYPES.get(enumName(value));
}

/**
 * Reads the billing tier of a usage object from its `serviceTier` (Gemini API) and
 * `trafficType` (Vertex) fields; `undefined` when neither is present.
 *
 * An unknown value (`ON_DEMAND_OFFPEAK`, `deferred`, a typo) or one that is not a string is
 * priced at the standard price and recorded as a repair (strict mode: `InvalidUsageError`).
 * When one field is unknown and the other known, the known one decides. When both name
 * different known tiers, the dearer one is used, with a repair.
 */
export function readServiceTier(
  reader: CountReader,
  serviceTier: unknown,
  serviceTierField: string,
  trafficType: unknown,
  trafficTypeField: string,
): ServiceTier | undefined {
  const fromTier = readOne(reader, serviceTier, serviceTierField, parseServiceTier);
  const fromTraffic = readOne(reader, trafficType, trafficTypeField, trafficTypeTier);
  // null: present but unknown (already a repair); the other field, when known, decides.
  if (fromTier == null || fromTraffic == null) {
    const known = fromTier ?? fromTraffic;
    if (known != null) return known;
    return fromTier === null || fromTraffic === null ? 'standard' : undefined;
  }
  if (fromTraffic === fromTier) return fromTier;
  const dearer = RANK[fromTraffic] > RANK[fromTier] ? fromTraffic : fromTier;
  return reader.repair(
    trafficTypeField,
    trafficType,
    dearer,
    `${serviceTierField} (${describe(serviceTier)}) and ${trafficTypeField} disagree; ` +
      `the dearer tier (${dearer}) is used`,
  );
}

/** The tier a field names; `undefined` when absent, `null` when unknown (after a repair). */
function readOne(
  reader: CountReader,
  value: unknown,
  field: string,
  parse: (value: unknown) => ServiceTier | undefined,
): ServiceTier | null | undefined {
  if (value === undefined || value === null) return undefined;
  const tier = parse(value);
  if (tier !== undefined) return tier;
  const reason =
    typeof value === 'string'
      ? `unknown service tier ${describe(value)}; priced at the standard price`
      : 'not a service tier (expected a string); priced at the standard price';
  reader.repair(field, value, 'standard' as ServiceTier, reason);
  return null;
}
