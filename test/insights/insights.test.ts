import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../src/account/record.js';
import { TokenTracker } from '../../src/account/tracker.js';
import { ConfigurationError, UnknownModelError } from '../../src/errors.js';
import { getInsights, type Insight, repriceCalls } from '../../src/insights/index.js';
import { toLedgerRecord } from '../../src/keep/record.js';
import { usdToFemto } from '../../src/price/money.js';
import { priceUsage } from '../../src/price/pricer.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { usage } from '../support/usage-factory.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Gemini usageMetadata with cache, thinking and an audio part: every dimension priced. */
function gemini(prompt: number, output: number, extra: Record<string, unknown> = {}) {
  const thoughts = (extra.thoughtsTokenCount as number | undefined) ?? 0;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: output,
    totalTokenCount: prompt + output + thoughts,
    ...extra,
  };
}

function mixedTracker(): TokenTracker {
  const tracker = new TokenTracker();
  const calls: [string, string, ReturnType<typeof gemini>][] = [
    ['researcher', 'gemini-2.5-flash', gemini(3_000, 400, { cachedContentTokenCount: 1_000 })],
    [
      'researcher',
      'gemini-2.5-flash',
      gemini(2_000, 300, {
        thoughtsTokenCount: 700,
        promptTokensDetails: [
          { modality: 'TEXT', tokenCount: 1_500 },
          { modality: 'AUDIO', tokenCount: 500 },
        ],
      }),
    ],
    ['writer', 'gemini-2.5-pro', gemini(210_000, 2_000, { thoughtsTokenCount: 1_000 })],
    ['writer', 'gemini-2.5-pro', gemini(1_000, 500)],
  ];
  calls.forEach(([agent, model, raw], i) => {
    tracker.record({ agent, model, usage: raw, threadId: 't1', timestamp: T0 + i * 1000 });
  });
  return tracker;
}

function directCost(records: readonly UsageRecord[], model: string): bigint {
  return records.reduce(
    (sum, r) => sum + priceUsage(r.usage, model, { timestamp: r.timestamp }).exact.total,
    0n,
  );
}

const whatIf = (insights: Insight[], agent: string) =>
  insights.find((i) => i.kind === 'what_if' && i.agent === agent);

describe('getInsights: what-if repricing', () => {
  it('agrees with pricing the same usage directly (cache, thinking, tiers, modalities)', () => {
    const tracker = mixedTracker();
    const report = getInsights(tracker, {
      candidates: { '*': ['gemini-2.5-flash-lite', 'gemini-2.0-flash', 'gemini-2.5-pro'] },
    });
    const history = tracker.getUsageHistory();
    for (const agent of ['researcher', 'writer']) {
      const records = history.filter((r) => r.agent === agent);
      const table = whatIf(report.insights, agent)?.table ?? [];
      const current = records.reduce((sum, r) => sum + r.cost.exact.total, 0n);
      expect(table[0]).toMatchObject({ model: 'current', savingUsd: 0 });
      expect(usdToFemto(Number(table[0]?.costUsdExact))).toBe(current);
      for (const row of table.slice(1)) {
        const direct = directCost(records, row.model);
        expect(row.costUsdExact).toBe(usdToFemtoString(direct));
        expect(BigInt(Math.round(Number(row.savingUsdExact) * 1e15))).toBe(current - direct);
      }
      // The agent's own model is no candidate of itself when it made every call.
      expect(table.map((r) => r.model)).not.toContain(records[0]?.model);
    }
  });

  it('prices the long-context tier and audio input as recorded, not as plain text', () => {
    const tracker = mixedTracker();
    const writer = tracker.getUsageHistory().filter((r) => r.agent === 'writer');
    const onFlash = directCost(writer, 'gemini-2.5-flash');
    // 210,000 prompt tokens on 2.5 Pro: the >200k tier ($2.50/M in, $15/M out).
    expect(writer[0]?.cost.exact.total).toBe(usdToFemto(0.525 + 0.045));
    const calls = writer.map((r) => ({
      agent: r.agent,
      node: r.agent,
      model: r.model,
      provider: r.provider,
      threadId: r.threadId,
      timestamp: r.timestamp,
      usage: r.usage,
      priced: true,
      costFemto: r.cost.exact.total,
      repaired: 0,
    }));
    expect(repriceCalls(tracker.pricer, calls, 'gemini-2.5-flash')).toBe(onFlash);
    const researcher = tracker.getUsageHistory().filter((r) => r.agent === 'researcher');
    const audio = researcher[1];
    const asText = priceUsage(
      usage({ inputTokens: 2_000, outputTokens: 1_000, reasoningTokens: 700 }),
      'gemini-2.5-flash-lite',
    ).exact.total;
    // 500 audio tokens at $0.30/M instead of $0.10/M on Flash-Lite.
    expect(directCost(audio ? [audio] : [], 'gemini-2.5-flash-lite') - asText).toBe(
      usdToFemto(0.0001),
    );
  });

  it('defaults to cheaper models of the same provider, family and generation, never older', () => {
    const report = getInsights(mixedTracker());
    const researcher = whatIf(report.insights, 'researcher');
    const models = researcher?.table?.slice(1).map((r) => r.model) ?? [];
    expect(models.length).toBeGreaterThan(0);
    expect(models.length).toBeLessThanOrEqual(3);
    expect(models).toContain('gemini-2.5-flash-lite');
    for (const row of researcher?.table?.slice(1) ?? []) {
      expect(row.model).toMatch(/^gemini-/);
      expect(row.model).not.toMatch(/1\.5|2\.0|preview|embedding|tts|image/);
      expect(row.savingUsd).toBeGreaterThan(0);
    }
    expect(researcher?.text).toContain('the same tokens repriced');
    expect(researcher?.confidence).toBe('high');
    expect(whatIf(report.insights, 'researcher')?.savingUsd).toBe(
      researcher?.table?.[1]?.savingUsd,
    );
  });

  it('reads a real SQLite ledger query and gives the same repricing as the tracker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-insights-'));
    dirs.push(dir);
    const store = createSqliteStore({ path: join(dir, 'ledger.db') });
    const tracker = new TokenTracker();
    [1_200, 2_500, 4_000].forEach((prompt, i) => {
      tracker.record({
        agent: 'critic',
        model: 'gemini-2.5-flash',
        usage: gemini(prompt, 300, { thoughtsTokenCount: 200 }),
        threadId: 'th',
        timestamp: T0 + i,
      });
    });
    await store.append(tracker.getUsageHistory().map((r) => toLedgerRecord(r, tracker.sessionId)));
    const page = await store.query({ limit: 100 });
    await store.close();
    const options = { candidates: { critic: ['gemini-2.5-flash-lite'] } };
    const fromLedger = whatIf(getInsights(page, options).insights, 'critic');
    const fromTracker = whatIf(getInsights(tracker, options).insights, 'critic');
    expect(fromLedger?.table).toEqual(fromTracker?.table);
    expect(fromLedger?.table?.[1]?.costUsdExact).toBe(
      usdToFemtoString(directCost(tracker.getUsageHistory(), 'gemini-2.5-flash-lite')),
    );
  });
});

function usdToFemtoString(femto: bigint): string {
  const digits = femto.toString().padStart(16, '0');
  const fraction = digits.slice(-15).replace(/0+$/, '');
  return `${digits.slice(0, -15)}${fraction ? `.${fraction}` : ''}`;
}

/** One agent's calls on gemini-2.5-flash ($0.30/M input, $0.03/M cached, $2.50/M output). */
function flashCalls(agent: string, calls: Partial<Parameters<typeof usage>[0]>[], threadId = 't') {
  const tracker = new TokenTracker();
  calls.forEach((parts, i) => {
    tracker.record({
      agent,
      model: 'gemini-2.5-flash',
      usage: usage(parts),
      threadId,
      timestamp: T0 + i * 1000,
    });
  });
  return tracker;
}

describe('getInsights: worked cases', () => {
  it.each([
    // 8,000 prompt tokens trimmed to 5,000: 3,000 × $0.30/M.
    ['heavy_calls', [{ inputTokens: 8_000 }, { inputTokens: 3_000 }], '0.0009'],
    // 2,100 → 4,000 → 6,500 → 9,800: (1,900 + 4,400 + 7,700) × $0.30/M.
    [
      'prompt_growth',
      [
        { inputTokens: 2_100 },
        { inputTokens: 4_000 },
        { inputTokens: 6_500 },
        { inputTokens: 9_800 },
      ],
      '0.0042',
    ],
    // Two 3,000-token prompts, none cached: the second's 3,000 at $0.03/M instead of $0.30/M.
    ['caching', [{ inputTokens: 3_000 }, { inputTokens: 3_000 }], '0.00081'],
    // 1,000 of 1,200 output tokens are thinking; half the budget saves 500 × $2.50/M.
    ['thinking', [{ inputTokens: 100, outputTokens: 1_200, reasoningTokens: 1_000 }], '0.00125'],
  ] as const)('%s', (kind, calls, saving) => {
    const report = getInsights(flashCalls('critic', [...calls]));
    const insight = report.insights.find((i) => i.kind === kind);
    expect(insight?.savingUsdExact).toBe(saving);
    expect(insight?.agent).toBe('critic');
    expect(insight?.text).toContain('critic');
  });

  it('prompt growth reads like the issue asks', () => {
    const report = getInsights(
      flashCalls('critic', [
        { inputTokens: 2_100 },
        { inputTokens: 4_000 },
        { inputTokens: 6_500 },
        { inputTokens: 9_800 },
      ]),
    );
    const growth = report.insights.find((i) => i.kind === 'prompt_growth');
    expect(growth?.text).toBe(
      "critic's prompt grew from 2,100 to 9,800 tokens over 4 calls; compressing state would save about $0.0042",
    );
    expect(growth?.evidence).toEqual({
      calls: 4,
      firstPromptTokens: 2_100,
      lastPromptTokens: 9_800,
    });
  });

  it('no growth insight for a flat or falling prompt, nor below 3 calls', () => {
    for (const sizes of [
      [3_000, 3_000, 3_000],
      [9_000, 6_000, 3_000],
      [1_000, 9_000],
    ]) {
      const report = getInsights(
        flashCalls(
          'a',
          sizes.map((inputTokens) => ({ inputTokens })),
        ),
      );
      expect(report.insights.some((i) => i.kind === 'prompt_growth')).toBe(false);
    }
  });

  it('revision loops: cost per iteration and the saving of one fewer', () => {
    const tracker = new TokenTracker();
    const steps: [string, number][] = [
      ['planner', 1_000],
      ['writer', 1_000],
      ['critic', 2_000],
      ['writer', 3_000],
      ['critic', 4_000],
      ['writer', 5_000],
      ['critic', 6_000],
    ];
    steps.forEach(([agent, inputTokens], i) => {
      tracker.record({
        agent,
        model: 'gemini-2.5-flash',
        usage: usage({ inputTokens }),
        threadId: 'loop',
        timestamp: T0 + i,
      });
    });
    const loop = getInsights(tracker).insights.find((i) => i.kind === 'revision_loop');
    expect(loop?.agent).toBe('writer → critic');
    // Iterations: 1,000 + 2,000, 3,000 + 4,000, 5,000 + 6,000 tokens at $0.30/M.
    expect(loop?.iterations?.map((it) => it.costUsdExact)).toEqual(['0.0009', '0.0021', '0.0033']);
    expect(loop?.savingUsdExact).toBe('0.0033');
    expect(loop?.evidence).toMatchObject({ iterations: 3, threads: 1 });
  });

  it('a node fanned out in parallel does not inflate the iteration count', () => {
    const tracker = new TokenTracker();
    [
      'researcher',
      'researcher',
      'researcher',
      'critic',
      'researcher',
      'researcher',
      'critic',
    ].forEach((agent, i) => {
      tracker.record({
        agent,
        model: 'gemini-2.5-flash',
        usage: usage({ inputTokens: 1_000 }),
        threadId: 'x',
        timestamp: T0 + i,
      });
    });
    const loop = getInsights(tracker).insights.find((i) => i.kind === 'revision_loop');
    expect(loop?.evidence.iterations).toBe(2);
    expect(loop?.iterations?.map((it) => it.calls)).toEqual([4, 3]);
  });

  it('calls below the minimum cacheable size are named, with no saving claimed', () => {
    const report = getInsights(flashCalls('planner', [{ inputTokens: 500 }, { inputTokens: 600 }]));
    const below = report.insights.find((i) => i.kind === 'below_cache_minimum');
    expect(below?.evidence).toEqual({ calls: 2, belowMinimum: 2, minimumTokens: 1_024 });
    expect(below?.savingUsd).toBe(0);
    expect(report.insights.some((i) => i.kind === 'caching')).toBe(false);
  });

  it('a well-cached prompt earns no caching suggestion', () => {
    const report = getInsights(
      flashCalls('a', [
        { inputTokens: 3_000, cacheReadTokens: 2_500 },
        { inputTokens: 3_000, cacheReadTokens: 2_500 },
      ]),
    );
    expect(report.insights.some((i) => i.kind === 'caching')).toBe(false);
  });

  it('warns about unpriced models and repaired usage, first', () => {
    const tracker = new TokenTracker();
    tracker.record({ agent: 'x', model: 'no-such-model-9', usage: usage({ inputTokens: 10 }) });
    tracker.record({
      agent: 'y',
      model: 'gemini-2.5-flash',
      usage: { promptTokenCount: -5, candidatesTokenCount: 10, totalTokenCount: 5 },
    });
    tracker.record({ agent: 'z', model: 'gemini-2.5-pro', usage: usage({ inputTokens: 9_000 }) });
    const { insights } = getInsights(tracker);
    expect(insights[0]?.severity).toBe('warning');
    expect(insights.find((i) => i.kind === 'unpriced_calls')).toMatchObject({
      model: 'no-such-model-9',
      evidence: { calls: 1, tokens: 10 },
    });
    expect(insights.find((i) => i.kind === 'repaired_usage')?.agent).toBe('y');
  });

  it('options: exclude, minSavingUsd, thresholds', () => {
    const tracker = flashCalls('critic', [{ inputTokens: 8_000 }, { inputTokens: 3_000 }]);
    expect(
      getInsights(tracker, { exclude: ['heavy_calls'] }).insights.map((i) => i.kind),
    ).not.toContain('heavy_calls');
    expect(
      getInsights(tracker, { heavyPromptTokens: 10_000 }).insights.map((i) => i.kind),
    ).not.toContain('heavy_calls');
    const big = getInsights(tracker, { minSavingUsd: 1 }).insights;
    expect(big.every((i) => i.savingUsd >= 1 || i.savingUsd === 0)).toBe(true);
  });
});

describe('getInsights: hostile input', () => {
  it.each([
    ['null', null],
    ['a string', 'tracker'],
    ['a number', 42],
    ['an object without records', { foo: 1 }],
  ])('rejects %s as a source with ConfigurationError', (_name, source) => {
    expect(() => getInsights(source as never)).toThrow(ConfigurationError);
  });

  const good = () => flashCalls('a', [{ inputTokens: 10 }]).getUsageHistory()[0] as UsageRecord;
  it.each([
    ['a null record', () => [null], /source\[0\]/],
    ['a missing model', () => [{ ...good(), model: '' }], /model/],
    ['a NaN timestamp', () => [{ ...good(), timestamp: Number.NaN }], /timestamp/],
    [
      'negative tokens',
      () => [{ ...good(), usage: { ...good().usage, inputTokens: -1 } }],
      /inputTokens/,
    ],
    [
      'fractional tokens',
      () => [{ ...good(), usage: { ...good().usage, outputTokens: 1.5 } }],
      /outputTokens/,
    ],
    ['a missing cost', () => [{ ...good(), cost: undefined }], /cost/],
    [
      'a ledger row with a number cost',
      () => [{ ...toLedgerRecord(good(), 's'), costFemto: 5 }],
      /costFemto/,
    ],
  ])('rejects %s, naming the field', (_name, make, field) => {
    expect(() => getInsights(make() as never)).toThrow(field);
    expect(() => getInsights(make() as never)).toThrow(ConfigurationError);
  });

  it('rejects bad options with typed errors', () => {
    const tracker = mixedTracker();
    expect(() => getInsights(tracker, { candidates: { a: ['no-such-model-x'] } })).toThrow(
      UnknownModelError,
    );
    expect(() => getInsights(tracker, { candidates: { a: 'gemini-2.5-flash' } as never })).toThrow(
      ConfigurationError,
    );
    expect(() => getInsights(tracker, { candidates: [] as never })).toThrow(ConfigurationError);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5000']) {
      expect(() => getInsights(tracker, { heavyPromptTokens: bad as never })).toThrow(
        /heavyPromptTokens/,
      );
    }
    expect(() => getInsights(tracker, { thinkingShare: 2 })).toThrow(ConfigurationError);
    expect(() => getInsights(tracker, null as never)).toThrow(ConfigurationError);
  });

  it('an empty source gives no insights and zero cost, never NaN', () => {
    expect(getInsights([])).toEqual({ calls: 0, costUsd: 0, costUsdExact: '0', insights: [] });
  });

  it('every number in a report is finite and the report survives JSON', () => {
    const tracker = mixedTracker();
    tracker.record({ agent: 'z', model: 'unknown-model', usage: usage() });
    const text = JSON.stringify(getInsights(tracker));
    expect(text).not.toMatch(/NaN|Infinity|null/);
  });
});
