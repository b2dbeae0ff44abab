import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidUsageError } from '../../src/errors.js';
import { normalizeUsage, type TokenUsage, type UsageFormat } from '../../src/usage/index.js';
import { gemini, weird } from './arbitraries.js';
import { invariantViolations } from './invariants.js';

const RUNS = Number(process.env.TOLLGATE_FC_RUNS ?? 1000);

const modalityRecord = fc.oneof(
  fc.record(
    { text: weird, image: weird, audio: weird, video: weird, document: weird },
    { requiredKeys: [] },
  ),
  weird,
);

const langchain = fc.record(
  {
    input_tokens: weird,
    output_tokens: weird,
    total_tokens: weird,
    input_token_details: fc.oneof(
      fc.record(
        { cache_read: weird, cache_creation: weird, text: weird, audio: weird, image: weird },
        { requiredKeys: [] },
      ),
      weird,
    ),
    output_token_details: fc.oneof(
      fc.record({ reasoning: weird, text: weird, audio: weird }, { requiredKeys: [] }),
      weird,
    ),
  },
  { requiredKeys: [] },
);

const openaiChat = fc.record(
  {
    prompt_tokens: weird,
    completion_tokens: weird,
    total_tokens: weird,
    prompt_tokens_details: fc.oneof(
      fc.record({ cached_tokens: weird, audio_tokens: weird }, { requiredKeys: [] }),
      weird,
    ),
    completion_tokens_details: fc.oneof(
      fc.record(
        {
          reasoning_tokens: weird,
          audio_tokens: weird,
          accepted_prediction_tokens: weird,
          rejected_prediction_tokens: weird,
        },
        { requiredKeys: [] },
      ),
      weird,
    ),
  },
  { requiredKeys: [] },
);

const openaiResponses = fc.record(
  {
    input_tokens: weird,
    output_tokens: weird,
    total_tokens: weird,
    input_tokens_details: fc.oneof(
      fc.record({ cached_tokens: weird }, { requiredKeys: [] }),
      weird,
    ),
    output_tokens_details: fc.oneof(
      fc.record({ reasoning_tokens: weird }, { requiredKeys: [] }),
      weird,
    ),
  },
  { requiredKeys: [] },
);

const anthropic = fc.record(
  {
    input_tokens: weird,
    output_tokens: weird,
    cache_creation_input_tokens: weird,
    cache_read_input_tokens: weird,
    cache_creation: fc.oneof(
      fc.record(
        { ephemeral_5m_input_tokens: weird, ephemeral_1h_input_tokens: weird },
        { requiredKeys: [] },
      ),
      weird,
    ),
  },
  { requiredKeys: [] },
);

const canonical = fc.record(
  {
    inputTokens: weird,
    outputTokens: weird,
    totalTokens: weird,
    cacheReadTokens: weird,
    cacheWriteTokens: weird,
    reasoningTokens: weird,
    toolUsePromptTokens: weird,
    inputByModality: modalityRecord,
    outputByModality: modalityRecord,
    cacheReadByModality: modalityRecord,
    cacheWriteByTtl: fc.oneof(fc.record({ '5m': weird, '1h': weird }, { requiredKeys: [] }), weird),
    trafficType: weird,
  },
  { requiredKeys: [] },
);

const usageObject = fc.oneof(gemini, langchain, openaiChat, openaiResponses, anthropic, canonical);

/** A usage object, bare or in one of the containers `normalizeUsage` unwraps. */
const wrapped = usageObject.chain((usage) =>
  fc.constantFrom<unknown>(
    usage,
    { usageMetadata: usage, candidates: [] },
    { usage },
    { usage_metadata: usage, content: '' },
    { response: { usageMetadata: usage } },
  ),
);

const anyInput = fc.oneof(fc.anything(), wrapped, weird);

const format = fc.constantFrom<UsageFormat | undefined>(
  undefined,
  'gemini',
  'langchain',
  'openai',
  'anthropic',
  'canonical',
);

function holds(usage: TokenUsage | null): boolean {
  if (usage === null) return true;
  const violations = invariantViolations(usage);
  if (violations.length > 0) throw new Error(`invariants broken: ${violations.join('; ')}`);
  return true;
}

describe('normalizeUsage properties', () => {
  it('lenient: never throws; returns null or a usage keeping every invariant', () => {
    fc.assert(
      fc.property(anyInput, format, (raw, fmt) => holds(normalizeUsage(raw, { format: fmt }))),
      { numRuns: RUNS * 3 },
    );
  });

  it('strict: returns a valid usage or null, or throws InvalidUsageError — nothing else', () => {
    fc.assert(
      fc.property(anyInput, format, (raw, fmt) => {
        try {
          return holds(normalizeUsage(raw, { strict: true, format: fmt }));
        } catch (error) {
          if (!InvalidUsageError.isInstance(error)) throw error;
          expect(typeof error.field).toBe('string');
          expect(error.field.length).toBeGreaterThan(0);
          expect(error.message).toContain(error.field);
          return true;
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('strict success means lenient agrees and made no repair', () => {
    fc.assert(
      fc.property(wrapped, (raw) => {
        let strict: TokenUsage | null;
        try {
          strict = normalizeUsage(raw, { strict: true });
        } catch {
          // A strict failure is a lenient repair.
          const lenient = normalizeUsage(raw);
          expect(lenient?.repairs?.length ?? 0).toBeGreaterThan(0);
          return;
        }
        const lenient = normalizeUsage(raw);
        expect(lenient).toEqual(strict);
        if (lenient !== null) expect(lenient).not.toHaveProperty('repairs');
      }),
      { numRuns: RUNS },
    );
  });

  it('Gemini: any usage obeying the API identity normalizes strictly with the same total', () => {
    const part = fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined });
    fc.assert(
      fc.property(
        part,
        part,
        part,
        part,
        fc.nat({ max: 100 }),
        (prompt, cand, thoughts, toolUse, pct) => {
          const total = (prompt ?? 0) + (cand ?? 0) + (thoughts ?? 0) + (toolUse ?? 0);
          const cached = Math.floor(((prompt ?? 0) * pct) / 100);
          const raw = {
            promptTokenCount: prompt,
            candidatesTokenCount: cand,
            thoughtsTokenCount: thoughts,
            toolUsePromptTokenCount: toolUse,
            cachedContentTokenCount: cached,
            totalTokenCount: total,
          };
          const usage = normalizeUsage(raw, { strict: true });
          holds(usage);
          expect(usage).toMatchObject({
            inputTokens: (prompt ?? 0) + (toolUse ?? 0),
            outputTokens: (cand ?? 0) + (thoughts ?? 0),
            reasoningTokens: thoughts ?? 0,
            cacheReadTokens: cached,
            totalTokens: total,
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never under-charges: lenient output is at least every reported output count', () => {
    const n = fc.nat({ max: 100_000 });
    fc.assert(
      fc.property(n, n, n, (input, output, total) => {
        for (const raw of [
          { input_tokens: input, output_tokens: output, total_tokens: total },
          { prompt_tokens: input, completion_tokens: output, total_tokens: total },
          { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: total },
          { inputTokens: input, outputTokens: output, totalTokens: total },
        ]) {
          const usage = normalizeUsage(raw);
          holds(usage);
          expect(usage?.inputTokens).toBe(input);
          expect(usage?.outputTokens).toBeGreaterThanOrEqual(output);
          expect(usage?.totalTokens).toBe(Math.max(total, input + output));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
