/**
 * What adaptive budgets ask of a call that would leave them low: a fallback model, a smaller
 * output cap. Pure: the manager reads the counters and sends the event.
 */
import { parseModelName } from '../../price/catalog.js';
import type { Adaptation } from './events.js';
import type { BudgetRule } from './rules.js';
import type { Charge, Reservation, ReserveInput } from './types.js';

/** Adaptive rules degrade calls when less than this fraction of the limit remains. */
export const DEFAULT_LOW_FRACTION = 0.2;

const PPM = 1_000_000;

export interface AdaptationPlan {
  adapt: Adaptation;
  /** The charge deepest into its low zone: the one the event names. */
  tightest: { charge: Charge; remaining: bigint };
}

/**
 * Plans the adaptation for a call. `used` holds settled + reserved (this call included) per
 * window key; a `request` charge uses the call's own estimate. A rule is low when what remains
 * is below `lowBudgetFraction` of its limit; then the output cap shrinks with what remains, from
 * the asked cap at the top of the low zone down to `minMaxOutputTokens` when nothing is left.
 * Undefined when no adaptive budget is low, or it has nothing to change.
 */
export function planAdaptation(
  charges: readonly Charge[],
  ruleOf: (id: string) => BudgetRule | undefined,
  used: ReadonlyMap<string, bigint>,
  reservation: Reservation,
  input: Pick<ReserveInput, 'model' | 'maxOutputTokens'>,
): AdaptationPlan | undefined {
  const low: { charge: Charge; rule: BudgetRule; remaining: bigint; ratio: number }[] = [];
  for (const charge of charges) {
    const rule = ruleOf(charge.ruleId);
    if (!rule) continue;
    const spent =
      charge.window === 'request' ? reservation.amountFemto : (used.get(charge.key) ?? 0n);
    const remaining = charge.limitFemto - spent;
    const fraction = rule.adaptive?.lowBudgetFraction ?? DEFAULT_LOW_FRACTION;
    const threshold = (charge.limitFemto * BigInt(Math.round(fraction * PPM))) / BigInt(PPM);
    if (remaining >= threshold) continue;
    // How deep into the low zone: 1 at its top, 0 when nothing is left.
    const ratio =
      remaining <= 0n || threshold === 0n ? 0 : Number((remaining * BigInt(PPM)) / threshold) / PPM;
    low.push({ charge, rule, remaining, ratio });
  }
  low.sort((a, b) => a.ratio - b.ratio);
  const asked = input.model === undefined ? undefined : parseModelName(input.model).model;
  const adapt: Adaptation = {};
  for (const { rule, ratio } of low) {
    const fallback = rule.adaptive?.fallbackModel;
    if (adapt.model === undefined && fallback && parseModelName(fallback).model !== asked) {
      adapt.model = fallback;
    }
    const floor = rule.adaptive?.minMaxOutputTokens;
    if (floor === undefined) continue;
    const cap = input.maxOutputTokens;
    const tokens =
      cap === undefined ? floor : Math.min(cap, Math.max(floor, Math.floor(cap * ratio)));
    adapt.maxOutputTokens = Math.min(adapt.maxOutputTokens ?? tokens, tokens);
  }
  const tightest = low[0];
  if (!tightest || (adapt.model === undefined && adapt.maxOutputTokens === undefined)) {
    return undefined;
  }
  return { adapt, tightest: { charge: tightest.charge, remaining: tightest.remaining } };
}
