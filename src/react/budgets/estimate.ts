/**
 * Pre-call cost estimates for reservations: an upper bound from the prompt size and the call's
 * max output tokens. Exact token counts (Gemini `countTokens`) come from the integrations; this
 * module takes whatever count it is given.
 */
import { ConfigurationError, describe } from '../../errors.js';
import { femtoToUsd } from '../../price/money.js';
import { Pricer } from '../../price/pricer.js';
import type { TokenUsage } from '../../usage/types.js';
import { countTextWordTokens } from './words.js';

let sharedPricer: Pricer | undefined;

/** The pricer used when none is given (bundled catalog, no overrides), made on first use. */
export function defaultPricer(): Pricer {
  sharedPricer ??= new Pricer();
  return sharedPricer;
}

/**
 * Input of `estimateCallCost`: the model, the prompt size and the output cap.
 *
 * @example
 * estimateCallCost({ model: 'gemini-2.5-flash', promptTokens: 2_000, maxOutputTokens: 1_024 });
 */
export interface CallEstimateInput {
  model: string;
  provider?: string | undefined;
  promptTokens: number;
  /** The call's output cap: every one of these tokens is priced as output (an upper bound). */
  maxOutputTokens: number;
  /** Prices with your overrides; default: the bundled catalog. */
  pricer?: Pricer | undefined;
  /** When the call is made (selects dated prices; default now). */
  at?: number | undefined;
}

/** An estimate, shaped to spread into `BudgetManager.reserve`. */
export interface CallEstimate {
  estimateFemto: bigint;
  estimateUsd: number;
  /** False when the model has no price: the estimate is then 0 and holds no budget. */
  priced: boolean;
}

/**
 * The most a call can cost: `promptTokens` of input plus `maxOutputTokens` of output, at the
 * model's prices (long-context tier chosen by the prompt size, as for the real call). Thinking
 * tokens count against the output cap and are priced as output, so this bounds them too.
 *
 * @example
 * const estimate = estimateCallCost({ model: 'gemini-2.5-flash', promptTokens: 1200, maxOutputTokens: 1024 });
 * await budgets.reserve({ callId, userId: 'alice', model: 'gemini-2.5-flash', ...estimate });
 */
export function estimateCallCost(input: CallEstimateInput): CallEstimate {
  if (typeof input.model !== 'string' || input.model.trim() === '') {
    throw new ConfigurationError(`model must be a model name, got ${describe(input.model)}`);
  }
  const promptTokens = count(input.promptTokens, 'promptTokens');
  const outputTokens = count(input.maxOutputTokens, 'maxOutputTokens');
  const usage: TokenUsage = {
    inputTokens: promptTokens,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: promptTokens + outputTokens,
    format: 'canonical',
  };
  const cost = (input.pricer ?? defaultPricer()).price(usage, input.model, {
    ...(input.provider !== undefined && { provider: input.provider }),
    ...(input.at !== undefined && { timestamp: input.at }),
  });
  const femto = BigInt(cost.totalFemto);
  return { estimateFemto: femto, estimateUsd: femtoToUsd(femto), priced: cost.priced };
}

function count(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigurationError(`${field} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Characters per token assumed by `estimatePromptTokens`. */
export const CHARS_PER_TOKEN = 4;

/**
 * An approximate prompt size: about 4 characters per token (English prose with Gemini's and
 * OpenAI's tokenizers; code, other scripts and images differ). Takes text, or a message list in
 * the Gemini (`contents: [{ role, parts: [{ text }] }]`), OpenAI (`{ content }`) or LangChain
 * shape: every string found under `text` or `content` is counted. Use a real count (Gemini
 * `countTokens`) when the budget is tight.
 *
 * @example
 * estimatePromptTokens('Summarize the attached report in three bullet points.'); // 14
 */
export function estimatePromptTokens(input: unknown): number {
  return Math.ceil(countChars(input, 0) / CHARS_PER_TOKEN);
}

/**
 * Tokens of the text in a prompt by the word rule: each whitespace-separated word costs
 * `ceil(code points / 4)` tokens, at least 1 (the rule `tollgate/testing`'s Gemini stand-in
 * bills by; above the 4-characters rule for short words). Reads the same shapes as
 * `estimatePromptTokens`. Hard session budgets count a prompt as the larger of the two.
 *
 * @example
 * countWordTokens('Hello brave new world'); // 7
 * countWordTokens([{ role: 'user', parts: [{ text: 'Hi there' }] }]); // 3
 */
export function countWordTokens(input: unknown): number {
  return walkText(input, 0, countTextWordTokens);
}

const textLength = (text: string) => text.length;

function countChars(value: unknown, depth: number): number {
  return walkText(value, depth, textLength);
}

/** Sums `measure` over every string under `text`, `content`, `contents`, `parts`, `messages`. */
function walkText(value: unknown, depth: number, measure: (text: string) => number): number {
  if (typeof value === 'string') return measure(value);
  if (depth > 8 || typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) {
    let total = 0;
    for (const item of value) total += walkText(item, depth + 1, measure);
    return total;
  }
  const record = value as Record<string, unknown>;
  let total = 0;
  for (const key of ['text', 'content', 'contents', 'parts', 'messages']) {
    if (key in record) total += walkText(record[key], depth + 1, measure);
  }
  return total;
}
