import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { toLedgerRecord, toUsageRecord } from '../../src/keep/record.js';
import { Pricer } from '../../src/price/pricer.js';

// gemini-1.5-flash ≤128k: $0.075 / $0.30 per 1M tokens.
const usage = { promptTokenCount: 1_000, candidatesTokenCount: 500, totalTokenCount: 1_500 };

describe('toLedgerRecord', () => {
  it('copies identity, tokens and the exact cost in femto-dollars', () => {
    const tracker = new TokenTracker();
    const record = tracker.record({
      agent: 'planner',
      model: 'gemini-1.5-flash',
      usage,
      callId: 'c1',
      node: 'agent',
      userId: 'alice',
      tenantId: 'acme',
      threadId: 't1',
      metadata: { step: 1 },
      timestamp: 1_700_000_000_000,
    });
    if (!record) throw new Error('not recorded');
    expect(toLedgerRecord(record, 'session-x')).toEqual({
      id: record.id,
      callId: 'c1',
      timestamp: 1_700_000_000_000,
      sessionId: 'session-x',
      agent: 'planner',
      node: 'agent',
      model: 'gemini-1.5-flash',
      provider: 'google',
      userId: 'alice',
      tenantId: 'acme',
      threadId: 't1',
      inputTokens: 1_000,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 500,
      reasoningTokens: 0,
      toolUsePromptTokens: 0,
      totalTokens: 1_500,
      priced: true,
      costFemto: 225_000_000_000n, // $0.000225
      metadata: { step: 1 },
    });
  });

  it('falls back to the record id as call id, and costs an unpriced call 0', () => {
    const record = new TokenTracker().record({ model: 'no-such-model-xyz', usage });
    if (!record) throw new Error('not recorded');
    const ledger = toLedgerRecord(record, 's');
    expect(ledger.callId).toBe(record.id);
    expect(ledger).toMatchObject({ priced: false, costFemto: 0n });
  });

  it('keeps a bigint cost (a call above 2^53 femto-dollars) exact', () => {
    const big = { promptTokenCount: 2_000_000_000, candidatesTokenCount: 0, totalTokenCount: 2e9 };
    const record = new TokenTracker().record({ model: 'gemini-1.5-flash', usage: big });
    if (!record) throw new Error('not recorded');
    // 2e9 tokens at $0.15 per Mtok (the >128k tier): $300.
    expect(toLedgerRecord(record, 's').costFemto).toBe(300n * 10n ** 15n);
  });
});

describe('toUsageRecord', () => {
  const tracker = new TokenTracker();
  const original = tracker.record({ agent: 'a', model: 'gemini-1.5-flash', usage, callId: 'c9' });
  if (!original) throw new Error('not recorded');
  const ledger = toLedgerRecord(original, tracker.sessionId);

  it('keeps the breakdown when repricing gives the ledger total', () => {
    const back = toUsageRecord(ledger, new Pricer());
    expect(back.callId).toBe('c9');
    expect(back.cost.totalFemto).toBe(original.cost.totalFemto);
    expect(back.cost.outputUsd).toBe(original.cost.outputUsd);
  });

  it('keeps only the ledger total when prices changed since', () => {
    const back = toUsageRecord({ ...ledger, costFemto: 123n }, new Pricer());
    expect(back.cost).toMatchObject({ priced: true, totalFemto: 123, inputUsd: 0 });
  });

  it('reads a call id equal to the record id as "no call id"', () => {
    const back = toUsageRecord({ ...ledger, callId: ledger.id });
    expect(back.callId).toBeUndefined();
    expect(back.usage.totalTokens).toBe(1_500);
  });
});

describe('service tiers through the ledger', () => {
  it.each([
    ['flex', 'ON_DEMAND_FLEX', 112_500_000_000n],
    ['priority', 'ON_DEMAND_PRIORITY', 405_000_000_000n],
    ['provisioned', 'PROVISIONED_THROUGHPUT', 225_000_000_000n],
  ] as const)('keeps a %s call and its exact breakdown', (tier, trafficType, femto) => {
    const tracker = new TokenTracker();
    const record = tracker.record({
      model: 'gemini-1.5-flash',
      usage: { ...usage, trafficType },
      timestamp: 1_700_000_000_000,
    });
    if (!record) throw new Error('not recorded');
    const ledger = toLedgerRecord(record, 's');
    expect(ledger).toMatchObject({ serviceTier: tier, costFemto: femto });
    const back = toUsageRecord(ledger, new Pricer());
    expect(back).toMatchObject({ serviceTier: tier, prepaid: tier === 'provisioned' });
    expect(back.usage.serviceTier).toBe(tier);
    // Repriced at the same tier, the breakdown survives (not only the total).
    expect(back.cost.exact).toEqual(record.cost.exact);
  });

  it('a standard call carries no tier in the ledger and comes back standard', () => {
    const record = new TokenTracker().record({ model: 'gemini-1.5-flash', usage });
    if (!record) throw new Error('not recorded');
    const ledger = toLedgerRecord(record, 's');
    expect(ledger).not.toHaveProperty('serviceTier');
    expect(toUsageRecord(ledger)).toMatchObject({ serviceTier: 'standard', prepaid: false });
  });

  it('a zero-cost provisioned call stays $0 when resumed with the same pricing', () => {
    const pricing = { provisioned: 'zero' as const };
    const record = new TokenTracker({ pricing }).record({
      model: 'gemini-1.5-flash',
      usage: { ...usage, trafficType: 'PROVISIONED_THROUGHPUT' },
    });
    if (!record) throw new Error('not recorded');
    const back = toUsageRecord(toLedgerRecord(record, 's'), new Pricer(pricing));
    expect(back.cost).toMatchObject({ priced: true, totalUsd: 0 });
    expect(back.prepaid).toBe(true);
  });
});
