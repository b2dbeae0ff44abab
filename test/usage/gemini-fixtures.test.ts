import { describe, expect, it } from 'vitest';
import { detectUsageFormat, normalizeUsage } from '../../src/usage/index.js';
import type { TokenUsage } from '../../src/usage/types.js';
import { describeWithFixtures, fixtureBodies, listFixtures } from '../support/fixtures.js';
import { expectInvariants } from './invariants.js';

/** Every folder of recorded Gemini response bodies (recordings/ holds replay files, not bodies). */
const FOLDERS = [
  'generative-ai-js',
  'vertexai-sdk-test-data/googleai',
  'vertexai-sdk-test-data/vertexai',
  'js-genai/derived',
];

const COUNT_KEYS = [
  'promptTokenCount',
  'candidatesTokenCount',
  'totalTokenCount',
  'thoughtsTokenCount',
  'cachedContentTokenCount',
  'toolUsePromptTokenCount',
] as const;

type Metadata = Record<string, unknown>;

function metadataOf(body: unknown): Metadata | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const metadata = (body as { usageMetadata?: unknown }).usageMetadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as Metadata) : undefined;
}

function hasCounts(metadata: Metadata): boolean {
  return COUNT_KEYS.some((key) => metadata[key] !== undefined);
}

function n(metadata: Metadata, key: string): number {
  const value = metadata[key];
  return typeof value === 'number' ? value : 0;
}

/** Per-modality sums of `{modality, tokenCount}` lists, as the normalizer should read them. */
function bySum(metadata: Metadata, ...fields: string[]): Record<string, number> | undefined {
  let out: Record<string, number> | undefined;
  for (const field of fields) {
    const list = metadata[field];
    if (!Array.isArray(list)) continue;
    for (const entry of list as { modality?: string; tokenCount?: number }[]) {
      const key = entry.modality?.toLowerCase();
      if (!key || !['text', 'image', 'audio', 'video', 'document'].includes(key)) continue;
      if (entry.tokenCount === undefined) continue;
      out ??= {};
      out[key] = (out[key] ?? 0) + entry.tokenCount;
    }
  }
  return out;
}

/** All fixture files holding response bodies (JSON, SSE, and JSON saved as .txt). */
const files = FOLDERS.flatMap((folder) => listFixtures(folder, /\.(json|txt|sse)$/));

/** Files whose bodies carry usage counts, with their bodies. */
const withUsage = files
  .map((file) => ({ file, bodies: fixtureBodies(file) }))
  .filter(({ bodies }) =>
    bodies.some((body) => {
      const metadata = metadataOf(body);
      return metadata !== undefined && hasCounts(metadata);
    }),
  );

/**
 * Streams where the last chunk is not the largest: gemini-2.0-flash's AFC follow-up calls
 * report a larger promptTokenCount on early chunks (101, 139) than on the final one (27, 61).
 * The final chunk is the SDKs' usage (@google/generative-ai keeps the last), so capture must take
 * the last chunk's usage, not the maximum.
 */
const LAST_NOT_LARGEST = new Set([
  'js-genai/derived/AFC_Streaming_Tests_chat_stream_AFC_enabled_Google_AI_chat_stream__call1.sse',
  'js-genai/derived/AFC_Streaming_Tests_chat_stream_AFC_enabled_Google_AI_chat_stream__call2.sse',
]);

function strict(raw: unknown): TokenUsage | null {
  return normalizeUsage(raw, { strict: true });
}

function only(file: string): TokenUsage {
  const bodies = fixtureBodies(file);
  const usage = strict(bodies[bodies.length - 1]);
  expectInvariants(usage);
  return usage;
}

describeWithFixtures('normalizeUsage over the recorded Gemini responses', () => {
  it('finds the fixtures (82 files with usage counts)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(withUsage.length).toBe(82);
  });

  describe.each(withUsage)('$file', ({ file, bodies }) => {
    it('strict: every usageMetadata with counts normalizes exactly; the others are null', () => {
      let counted = 0;
      for (const body of bodies) {
        const metadata = metadataOf(body);
        if (metadata === undefined) {
          expect(strict(body)).toBeNull();
          continue;
        }
        if (!hasCounts(metadata)) {
          // Vertex middle chunk: {trafficType} (maybe billablePromptUsage): no usage yet.
          expect(
            Object.keys(metadata).every((k) => ['trafficType', 'billablePromptUsage'].includes(k)),
          ).toBe(true);
          expect(strict(body)).toBeNull();
          expect(strict(metadata)).toBeNull();
          continue;
        }
        counted++;
        const usage = strict(body);
        expectInvariants(usage);
        const prompt = n(metadata, 'promptTokenCount');
        const toolUse = n(metadata, 'toolUsePromptTokenCount');
        const thoughts = n(metadata, 'thoughtsTokenCount');
        const total =
          typeof metadata.totalTokenCount === 'number'
            ? metadata.totalTokenCount
            : prompt + n(metadata, 'candidatesTokenCount') + toolUse + thoughts;
        expect(usage.format).toBe('gemini');
        expect(usage.inputTokens + usage.outputTokens).toBe(total);
        expect(usage.totalTokens).toBe(total);
        expect(usage.inputTokens).toBe(prompt + toolUse);
        expect(usage.reasoningTokens).toBe(thoughts);
        expect(usage.cacheReadTokens).toBe(n(metadata, 'cachedContentTokenCount'));
        expect(usage.toolUsePromptTokens).toBe(toolUse);
        expect(usage.cacheWriteTokens).toBe(0);
        expect(usage).not.toHaveProperty('repairs');
        expect(usage.raw).toBe(metadata);
        expect(usage.trafficType).toBe(metadata.trafficType);
        expect(usage.inputByModality).toEqual(
          bySum(metadata, 'promptTokensDetails', 'toolUsePromptTokensDetails'),
        );
        expect(usage.outputByModality).toEqual(bySum(metadata, 'candidatesTokensDetails'));
        expect(usage.cacheReadByModality).toEqual(bySum(metadata, 'cacheTokensDetails'));
        // The bare usageMetadata, the {response} wrapper and lenient mode all agree.
        expect(strict(metadata)).toEqual(usage);
        expect(strict({ response: body })).toEqual(usage);
        expect(normalizeUsage(body)).toEqual(usage);
        expect(detectUsageFormat(body)).toBe('gemini');
      }
      expect(counted).toBeGreaterThan(0);
    });

    if (bodies.length > 1) {
      it('stream: the last chunk with counts carries the final (cumulative) usage', () => {
        const totals = bodies
          .map((body) => strict(body))
          .filter((usage): usage is TokenUsage => usage !== null)
          .map((usage) => usage.totalTokens);
        const last = totals[totals.length - 1];
        if (LAST_NOT_LARGEST.has(file)) {
          expect(last).toBeLessThan(Math.max(...totals));
        } else {
          expect(last).toBe(Math.max(...totals));
          for (let i = 1; i < totals.length; i++) {
            expect(totals[i]).toBeGreaterThanOrEqual(totals[i - 1] ?? 0);
          }
        }
      });
    }
  });

  it('files without usage counts normalize to null (errors, blocked prompts, countTokens)', () => {
    const without = files.filter((file) => !withUsage.some((entry) => entry.file === file));
    expect(without.length).toBeGreaterThan(50);
    for (const file of without) {
      for (const body of fixtureBodies(file)) {
        expect(strict(body)).toBeNull();
      }
    }
  });

  describe('named cases from INDEX.md', () => {
    it('MCP stream call1, final chunk: stream + cache + tool use + thoughts', () => {
      // prompt 1844 (cached 901 of them), candidates 432, thoughts 91, toolUse 1934, total 4301
      const usage = only(
        'js-genai/derived/Chats_Tests_sendMessage_multiple_messages_with_server_side_MCP_tools_stream__call1.sse',
      );
      expect(usage).toMatchObject({
        inputTokens: 3778,
        cacheReadTokens: 901,
        cacheWriteTokens: 0,
        toolUsePromptTokens: 1934,
        outputTokens: 523,
        reasoningTokens: 91,
        totalTokens: 4301,
        inputByModality: { text: 3778 },
        cacheReadByModality: { text: 901 },
      });
      expect(usage.outputByModality).toBeUndefined();
    });

    it('thinking reply with no candidatesTokenCount (prompt 7, thoughts 19, total 26)', () => {
      const usage = only(
        'js-genai/derived/Client_Tests_generateContent_ML_Dev_should_return_the_headers_in_the_sdkHttpResponse_by_default__call0.json',
      );
      expect(usage).toMatchObject({
        inputTokens: 7,
        outputTokens: 19,
        reasoningTokens: 19,
        totalTokens: 26,
      });
    });

    it('v1alpha thinking reply with no candidatesTokenCount (prompt 17, thoughts 19, total 36)', () => {
      const usage = only(
        'js-genai/derived/Client_Tests_test_thinking_generate_content_should_return_thought_field__call0.json',
      );
      expect(usage).toMatchObject({ inputTokens: 17, outputTokens: 19, reasoningTokens: 19 });
    });

    it('Vertex implicit caching: cached 11243 of prompt 12013', () => {
      const usage = only('vertexai-sdk-test-data/vertexai/unary-success-implicit-caching.json');
      expect(usage).toMatchObject({
        inputTokens: 12013,
        cacheReadTokens: 11243,
        outputTokens: 15 + 73,
        reasoningTokens: 73,
        totalTokens: 12101,
        cacheReadByModality: { text: 11243 },
      });
    });

    it('Vertex stream: middle chunks carry only trafficType and are null; the last has the counts', () => {
      const file = 'js-genai/derived/Chats_Tests_sendMessage_Vertex_AI_with_text_stream__call0.sse';
      const usages = fixtureBodies(file).map((body) => strict(body));
      expect(usages.length).toBe(13);
      expect(usages.slice(0, -1).every((usage) => usage === null)).toBe(true);
      expect(usages[12]).toMatchObject({
        inputTokens: 6,
        outputTokens: 481,
        totalTokens: 487,
        trafficType: 'ON_DEMAND',
      });
    });

    it('Vertex unary with billablePromptUsage and trafficType', () => {
      const usage = only(
        'js-genai/derived/Client_Tests_generateContent_Vertex_AI_should_generate_content_with_system_instruction__call0.json',
      );
      expect(usage).toMatchObject({
        inputTokens: 8,
        outputTokens: 35,
        reasoningTokens: 34,
        totalTokens: 43,
        trafficType: 'ON_DEMAND',
      });
    });

    it('image output: candidatesTokensDetails IMAGE 1290 of candidates 1318', () => {
      const usage = only(
        'js-genai/derived/Client_Tests_generateContentStream_ML_Dev_should_stream_generate_content_with_image_output__call0.sse',
      );
      expect(usage).toMatchObject({
        inputTokens: 15,
        outputTokens: 1318,
        outputByModality: { image: 1290 },
        inputByModality: { text: 15 },
      });
    });

    it('modality details need not add up (IMAGE 1806 + TEXT 76 vs prompt 1837): no repair', () => {
      const usage = only(
        'vertexai-sdk-test-data/vertexai/unary-success-basic-response-long-usage-metadata.json',
      );
      expect(usage.inputTokens).toBe(1837);
      expect(usage.inputByModality).toEqual({ image: 1806, text: 76 });
      expect(usage.repairs).toBeUndefined();
    });

    it('thinking stream: totals 80 → 328 → 550 → 572 → 598', () => {
      const file =
        'vertexai-sdk-test-data/googleai/streaming-success-thinking-reply-thought-summary.txt';
      const usages = fixtureBodies(file).map((body) => strict(body));
      expect(usages.map((usage) => usage?.totalTokens)).toEqual([80, 328, 550, 572, 598]);
      expect(usages[4]).toMatchObject({ inputTokens: 10, outputTokens: 588, reasoningTokens: 540 });
    });

    it('search grounding stream: candidates 1 → 17 → 33 → 65 → 97 → 106 → 106', () => {
      const file = 'generative-ai-js/streaming-success-search-grounding.txt';
      const outputs = fixtureBodies(file).map((body) => strict(body)?.outputTokens);
      expect(outputs).toEqual([1, 17, 33, 65, 97, 106, 106]);
    });

    it('code execution: tool-use prompt tokens are input', () => {
      const usage = only('vertexai-sdk-test-data/googleai/unary-success-code-execution.json');
      // prompt 21, candidates 96, toolUse 160, thoughts 86, total 363
      expect(usage).toMatchObject({
        inputTokens: 181,
        toolUsePromptTokens: 160,
        outputTokens: 182,
        reasoningTokens: 86,
        totalTokens: 363,
      });
    });

    it('recitation failure: prompt 18, total 18, no candidates', () => {
      const usage = only('generative-ai-js/unary-failure-citations.json');
      expect(usage).toMatchObject({ inputTokens: 18, outputTokens: 0, totalTokens: 18 });
    });

    it('partial usage metadata: promptTokenCount only', () => {
      const usage = only(
        'vertexai-sdk-test-data/vertexai/unary-success-partial-usage-metadata.json',
      );
      expect(usage).toMatchObject({ inputTokens: 6, outputTokens: 0, totalTokens: 6 });
    });

    it('AFC: each HTTP call has its own usage (23, 59, 77)', () => {
      const totals = [0, 1, 2].map(
        (i) =>
          only(
            `js-genai/derived/AFC_Streaming_Tests_chat_stream_AFC_enabled_Google_AI_chat_stream__call${i}.sse`,
          ).totalTokens,
      );
      expect(totals).toEqual([23, 59, 77]);
    });

    it('countTokens responses are not usage', () => {
      for (const file of [
        'js-genai/derived/Client_Tests_countTokens_ML_Dev_should_count_tokens_with_specified_parameters__call0.json',
        'js-genai/derived/Client_Tests_countTokens_Vertex_AI_should_count_tokens_with_specified_parameters__call0.json',
        'vertexai-sdk-test-data/vertexai/unary-success-detailed-token-response.json',
      ]) {
        const [body] = fixtureBodies(file);
        expect(detectUsageFormat(body)).toBeNull();
        expect(strict(body)).toBeNull();
      }
    });
  });
});
