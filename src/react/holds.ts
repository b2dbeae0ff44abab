/**
 * In-session holds: what a hard session budget keeps aside for the calls in flight, so parallel
 * calls (LangGraph `Send` tasks, `Promise.all`) cannot all pass the check before any of them is
 * recorded. A call is estimated before it starts, its estimate is held while it runs, and the
 * hold is replaced by the recorded exact cost when it ends (released when it fails).
 *
 * The admission rule, with spend, holds and estimate in exact femto-dollars:
 *   refuse when spent ≥ limit (the budget is used up), or spent + held + estimate > limit.
 * What it guarantees: every admission leaves spent + held ≤ limit, and only a settlement can
 * raise spent + held, by (actual − estimate) of the call settled. So after the last admission,
 *   final spend ≤ limit + Σ over the calls in flight at that admission of (actual − estimate)⁺,
 * and spend ≤ limit whenever every estimate is an upper bound (the call caps its output with
 * `maxOutputTokens` and the prompt count is not low). Calls recorded without a hold
 * (`tracker.record()` by hand) are outside the rule.
 */
import type { UsageRecord } from '../account/record.js';
import { UnknownModelError } from '../errors.js';
import type { Pricer } from '../price/pricer.js';
import { countWordTokens, estimateCallCost, estimatePromptTokens } from './budgets/estimate.js';

/**
 * Output tokens assumed for a call that sets no `maxOutputTokens` before any call of the session
 * was recorded (`TokenTrackerOptions.holdOutputTokens`).
 */
export const DEFAULT_HOLD_OUTPUT_TOKENS = 1024;

/** How long a hold lasts at most (`TokenTrackerOptions.holdMs`): a stream never read ends. */
export const DEFAULT_HOLD_MS = 10 * 60_000;

/** A call about to start, as `tracker.reserve` estimates it. */
export interface HoldRequest {
  model: string;
  provider?: string | undefined;
  /** The agent making the call: its running average output sizes calls without a cap. */
  agent?: string | undefined;
  /** Prompt tokens, when the caller counted them (e.g. Gemini `countTokens`). */
  promptTokens?: number | undefined;
  /**
   * The prompt, counted locally when `promptTokens` is absent: text, Gemini `contents`, or
   * LangChain / OpenAI messages (the larger of about 4 characters a token and
   * `countWordTokens`).
   */
  prompt?: unknown;
  /** The call's output cap: the estimate then bounds the output (thinking included). */
  maxOutputTokens?: number | undefined;
  /** Overrides the tracker's `enforce` for this call (an integration's own `enforce` option). */
  enforce?: 'warn' | 'hard' | undefined;
}

/**
 * What a hard session budget holds for one call in flight. Settle it with the call's record when
 * the call ends, or release it when the call fails; both are idempotent, and the first wins.
 */
export interface BudgetHold {
  /** The estimate held, exact. 0 for the no-op hold (no hard budget). */
  readonly estimateFemto: bigint;
  readonly estimateUsd: number;
  /** Ends the hold: the record (already counted in the spend) replaces the estimate. */
  settle(record?: UsageRecord): void;
  /** Ends the hold without a record (the call failed or was abandoned). */
  release(): void;
}

/** The hold of a tracker without a hard budget: holds nothing, allocates nothing. */
export const NO_HOLD: BudgetHold = Object.freeze({
  estimateFemto: 0n,
  estimateUsd: 0,
  settle: () => undefined,
  release: () => undefined,
});

class Hold implements BudgetHold {
  ended = false;

  constructor(
    private readonly book: HoldBook,
    readonly estimateFemto: bigint,
    readonly estimateUsd: number,
    readonly agent: string | undefined,
    readonly expiresAt: number,
  ) {}

  settle(record?: UsageRecord): void {
    if (this.ended) return;
    this.book.end(this);
    if (record) this.book.learn(this.agent, record);
  }

  release(): void {
    if (!this.ended) this.book.end(this);
  }
}

interface OutputAverage {
  calls: number;
  tokens: number;
}

/** The holds of one tracker, and the running output sizes that estimate uncapped calls. */
export class HoldBook {
  private held = 0n;
  private readonly live = new Set<Hold>();
  private readonly byAgent = new Map<string, OutputAverage>();
  private readonly session: OutputAverage = { calls: 0, tokens: 0 };

  constructor(
    private readonly outputTokens: number,
    private readonly holdMs: number,
  ) {}

  /** Femto-dollars held by calls in flight (expired holds dropped first). */
  heldFemto(now: number): bigint {
    if (this.live.size > 0) this.expire(now);
    return this.held;
  }

  /** Calls in flight. */
  get size(): number {
    return this.live.size;
  }

  /**
   * The estimate of a call: prompt tokens counted (or given), output from the cap, else the
   * agent's running average of billed output tokens (thinking included), else the session's,
   * else `outputTokens`. Priced with the tracker's pricer; 0 when the model has no price.
   */
  estimate(request: HoldRequest, pricer: Pricer): { femto: bigint; usd: number } {
    const promptTokens = request.promptTokens ?? countPrompt(request.prompt);
    const maxOutputTokens = request.maxOutputTokens ?? this.expectedOutput(request.agent);
    try {
      const estimate = estimateCallCost({
        model: request.model,
        provider: request.provider,
        promptTokens,
        maxOutputTokens,
        pricer,
      });
      return { femto: estimate.estimateFemto, usd: estimate.estimateUsd };
    } catch (error) {
      // An unknown model under strict pricing: the record is refused after the call anyway.
      if (UnknownModelError.isInstance(error)) return { femto: 0n, usd: 0 };
      throw error;
    }
  }

  /** Takes a hold; the caller has checked that it fits. */
  take(estimate: { femto: bigint; usd: number }, agent: string | undefined, now: number) {
    const hold = new Hold(this, estimate.femto, estimate.usd, agent, now + this.holdMs);
    this.live.add(hold);
    this.held += estimate.femto;
    return hold;
  }

  end(hold: Hold): void {
    hold.ended = true;
    if (this.live.delete(hold)) this.held -= hold.estimateFemto;
  }

  learn(agent: string | undefined, record: UsageRecord): void {
    const tokens = record.usage.outputTokens;
    this.session.calls += 1;
    this.session.tokens += tokens;
    if (agent === undefined) return;
    const known = this.byAgent.get(agent);
    if (known) {
      known.calls += 1;
      known.tokens += tokens;
    } else this.byAgent.set(agent, { calls: 1, tokens });
  }

  /** Drops every hold (the tracker was reset). */
  clear(): void {
    for (const hold of this.live) hold.ended = true;
    this.live.clear();
    this.held = 0n;
  }

  private expectedOutput(agent: string | undefined): number {
    const average = (agent !== undefined && this.byAgent.get(agent)) || this.session;
    return average.calls > 0 ? Math.ceil(average.tokens / average.calls) : this.outputTokens;
  }

  private expire(now: number): void {
    for (const hold of this.live) if (hold.expiresAt <= now) this.end(hold);
  }
}

/** Prompt tokens of a prompt counted locally: the larger of the two local rules. */
function countPrompt(prompt: unknown): number {
  if (prompt === undefined) return 0;
  return Math.max(estimatePromptTokens(prompt), countWordTokens(prompt));
}
