/**
 * Service tiers end to end: the real @google/genai and @google/generative-ai SDKs, wrapped by
 * trackGemini, talking to the stand-in, which reports the tier as the Gemini API (serviceTier)
 * or Vertex (trafficType) does.
 */
import { GoogleGenAI, ServiceTier } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { describe, expect, it } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import { TokenTracker, type UsageRecord } from '../../src/index.js';
import { Pricer } from '../../src/price/pricer.js';
import type { GeminiStandInOptions } from '../../src/testing/index.js';
import { closeStandIns, standInFor } from './support.js';

closeStandIns();

const model = 'gemini-3-flash-preview';

/** The record's exact cost and the standard (list) price of the same usage. */
function costs(record: UsageRecord | undefined): { tier: bigint; standard: bigint } {
  if (!record) throw new Error('no record');
  const standard = new Pricer().price({ ...record.usage, serviceTier: 'standard' }, model);
  return { tier: record.cost.exact.total, standard: standard.exact.total };
}

/** The JSON's `serviceTier`, which @google/genai's response usage type does not declare. */
const tierOf = (usage: unknown) => (usage as { serviceTier?: string } | undefined)?.serviceTier;

async function genai(standInOptions: GeminiStandInOptions = {}, tracker = new TokenTracker()) {
  const standIn = await standInFor(standInOptions);
  const raw = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } });
  return { ai: trackGemini(raw, { tracker }), tracker, standIn };
}

describe('service tiers through @google/genai', () => {
  it.each([
    [ServiceTier.FLEX, 'flex', 5n, 10n],
    [ServiceTier.PRIORITY, 'priority', 18n, 10n],
    [ServiceTier.STANDARD, 'standard', 1n, 1n],
  ] as const)(
    'config.serviceTier %s: recorded and priced as %s',
    async (requested, tier, num, den) => {
      const { ai, tracker, standIn } = await genai();
      const response = await ai.models.generateContent({
        model,
        contents: 'Summarize the tiers.',
        config: { serviceTier: requested },
      });
      expect(standIn.requests[0]?.body).toMatchObject({ serviceTier: requested });
      expect(tierOf(response.usageMetadata)).toBe(requested);
      const record = tracker.getUsageHistory()[0];
      expect(record).toMatchObject({ serviceTier: tier, prepaid: false });
      const { tier: cost, standard } = costs(record);
      expect(standard).toBeGreaterThan(0n);
      expect(cost * den).toBe(standard * num);
    },
  );

  it('a Flex stream: every chunk says flex, one record at half price', async () => {
    const { ai, tracker } = await genai({ streamChunks: 3 });
    const stream = await ai.models.generateContentStream({
      model,
      contents: 'Stream the answer.',
      config: { serviceTier: ServiceTier.FLEX },
    });
    const tiers: unknown[] = [];
    for await (const chunk of stream) tiers.push(tierOf(chunk.usageMetadata));
    expect(tiers.length).toBeGreaterThan(1);
    expect(new Set(tiers)).toEqual(new Set(['flex']));
    const history = tracker.getUsageHistory();
    expect(history).toHaveLength(1);
    const { tier, standard } = costs(history[0]);
    expect(tier * 2n).toBe(standard);
  });

  it('an uppercase serviceTier from the API (FLEX, SERVICE_TIER_PRIORITY) is read', async () => {
    for (const [reported, expected] of [
      ['FLEX', 'flex'],
      ['SERVICE_TIER_PRIORITY', 'priority'],
    ] as const) {
      const { ai, tracker } = await genai({ serviceTier: reported });
      await ai.models.generateContent({ model, contents: 'Hi.' });
      expect(tracker.getUsageHistory()[0]?.serviceTier).toBe(expected);
      expect(tracker.getUsageHistory()[0]?.usage.repairs).toBeUndefined();
    }
  });

  it('Vertex style: a Flex stream reports ON_DEMAND_FLEX on every chunk', async () => {
    const { ai, tracker } = await genai({ vertexStyle: true, streamChunks: 3 });
    const stream = await ai.models.generateContentStream({
      model,
      contents: 'Stream it, Vertex style.',
      config: { serviceTier: ServiceTier.FLEX },
    });
    const traffic: unknown[] = [];
    for await (const chunk of stream) traffic.push(chunk.usageMetadata?.trafficType);
    expect(new Set(traffic)).toEqual(new Set(['ON_DEMAND_FLEX']));
    const record = tracker.getUsageHistory()[0];
    expect(record).toMatchObject({ serviceTier: 'flex' });
    expect(record?.usage.trafficType).toBe('ON_DEMAND_FLEX');
    const { tier, standard } = costs(record);
    expect(tier * 2n).toBe(standard);
  });

  it('Provisioned Throughput: prepaid, at list price or $0 as the pricer chooses', async () => {
    const listed = await genai({ vertexStyle: true, trafficType: 'PROVISIONED_THROUGHPUT' });
    await listed.ai.models.generateContent({ model, contents: 'Reserved capacity.' });
    const record = listed.tracker.getUsageHistory()[0];
    expect(record).toMatchObject({ serviceTier: 'provisioned', prepaid: true });
    const { tier, standard } = costs(record);
    expect(tier).toBe(standard);

    const zero = new TokenTracker({ pricing: { provisioned: 'zero' } });
    const free = await genai({ vertexStyle: true, trafficType: 'PROVISIONED_THROUGHPUT' }, zero);
    await free.ai.models.generateContent({ model, contents: 'Reserved capacity.' });
    expect(zero.getUsageHistory()[0]).toMatchObject({ serviceTier: 'provisioned', prepaid: true });
    expect(zero.getUsageHistory()[0]?.cost).toMatchObject({ priced: true, totalUsd: 0 });
  });

  it('an unknown tier from the API: standard price and a usage_anomaly', async () => {
    const { ai, tracker } = await genai({ serviceTier: 'deferred' });
    const anomalies: string[] = [];
    tracker.on('usage_anomaly', (event) => anomalies.push(event.message));
    await ai.models.generateContent({ model, contents: 'Hi.' });
    const record = tracker.getUsageHistory()[0];
    expect(record?.serviceTier).toBe('standard');
    const { tier, standard } = costs(record);
    expect(tier).toBe(standard);
    expect(anomalies).toHaveLength(1);
  });
});

describe('service tiers through @google/generative-ai', () => {
  async function generativeAi(standInOptions: GeminiStandInOptions) {
    const standIn = await standInFor(standInOptions);
    const tracker = new TokenTracker();
    const raw = new GoogleGenerativeAI('k').getGenerativeModel(
      { model },
      { baseUrl: standIn.baseUrl },
    );
    return { model: trackGemini(raw, { tracker }), tracker };
  }

  it('generateContent reporting priority: priced at 1.8 times the list price', async () => {
    const { model: gen, tracker } = await generativeAi({ serviceTier: 'priority' });
    await gen.generateContent('Answer fast.');
    const record = tracker.getUsageHistory()[0];
    expect(record?.serviceTier).toBe('priority');
    const { tier, standard } = costs(record);
    expect(tier * 10n).toBe(standard * 18n);
  });

  it('generateContentStream reporting flex: one record at half price', async () => {
    const { model: gen, tracker } = await generativeAi({ serviceTier: 'flex', streamChunks: 4 });
    const result = await gen.generateContentStream('Take your time.');
    for await (const _ of result.stream) {
      // drain
    }
    await result.response;
    const history = tracker.getUsageHistory();
    expect(history).toHaveLength(1);
    expect(history[0]?.serviceTier).toBe('flex');
    const { tier, standard } = costs(history[0]);
    expect(tier * 2n).toBe(standard);
  });
});
