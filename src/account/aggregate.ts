import { femtoToUsd } from '../price/money.js';
import type { UsageRecord } from './record.js';

/** Per-key totals (per agent, model, user, thread) as shown in statistics. */
export interface AggregateStats {
  calls: number;
  tokens: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
  unpricedCalls: number;
}

const SPILL = 2 ** 52;

/**
 * Running totals kept incrementally: adding a record never rescans history.
 *
 * Cost is an exact femto-dollar sum split in two: `smallFemto`, a number kept at or below 2^52
 * so that adding one call's cost (itself spilled when above 2^52) stays exact, and `bigFemto`,
 * a bigint that takes the small part whenever it passes 2^52. So no bigint is made per call.
 */
export class Aggregate {
  calls = 0;
  inputTokens = 0;
  outputTokens = 0;
  cachedTokens = 0;
  reasoningTokens = 0;
  unpricedCalls = 0;
  private smallFemto = 0;
  private bigFemto = 0n;

  add(record: UsageRecord): void {
    const usage = record.usage;
    this.calls += 1;
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.cachedTokens += usage.cacheReadTokens;
    this.reasoningTokens += usage.reasoningTokens;
    if (record.cost.priced) this.addFemto(record.cost.totalFemto);
    else this.unpricedCalls += 1;
  }

  addFemto(femto: number | bigint): void {
    if (typeof femto === 'bigint' || femto > SPILL) {
      this.bigFemto += BigInt(femto);
      return;
    }
    this.smallFemto += femto;
    if (this.smallFemto > SPILL) {
      this.bigFemto += BigInt(this.smallFemto);
      this.smallFemto = 0;
    }
  }

  /** The exact cost in femto-dollars. */
  get costFemto(): bigint {
    return this.bigFemto + BigInt(this.smallFemto);
  }

  /** The exact cost as a number when it fits (below 2^52 femto-dollars, about $4.50), else undefined. */
  get smallCostFemto(): number | undefined {
    return this.bigFemto === 0n ? this.smallFemto : undefined;
  }

  reset(): void {
    this.calls = 0;
    this.inputTokens = 0;
    this.outputTokens = 0;
    this.cachedTokens = 0;
    this.reasoningTokens = 0;
    this.unpricedCalls = 0;
    this.smallFemto = 0;
    this.bigFemto = 0n;
  }

  get tokens(): number {
    return this.inputTokens + this.outputTokens;
  }

  toStats(): AggregateStats {
    return {
      calls: this.calls,
      tokens: this.tokens,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      cachedTokens: this.cachedTokens,
      reasoningTokens: this.reasoningTokens,
      costUsd: femtoToUsd(this.smallCostFemto ?? this.costFemto),
      unpricedCalls: this.unpricedCalls,
    };
  }
}

/** Aggregates keyed by a record field; records without the field are not grouped. */
export class AggregateMap {
  private readonly groups = new Map<string, Aggregate>();

  add(key: string | undefined, record: UsageRecord): void {
    if (key === undefined) return;
    let group = this.groups.get(key);
    if (!group) {
      group = new Aggregate();
      this.groups.set(key, group);
    }
    group.add(record);
  }

  get(key: string): Aggregate | undefined {
    return this.groups.get(key);
  }

  /**
   * Plain object of stats, largest cost first (ties: most tokens, then name in code-unit order:
   * the same on every machine, and no collator to load as `localeCompare` would).
   */
  toStats(): Record<string, AggregateStats> {
    // Costs compared as exact numbers while they fit (no bigint made per group), else as bigints.
    const entries = [...this.groups.entries()]
      .map(([name, group]) => ({ name, group, cost: group.smallCostFemto ?? group.costFemto }))
      .sort(
        (a, b) =>
          (b.cost > a.cost ? 1 : b.cost < a.cost ? -1 : 0) ||
          b.group.tokens - a.group.tokens ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );
    const result: Record<string, AggregateStats> = {};
    for (const { name, group } of entries) result[name] = group.toStats();
    return result;
  }

  clear(): void {
    this.groups.clear();
  }
}
