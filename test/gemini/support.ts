import { afterEach, expect } from 'vitest';
import type { UsageRecord } from '../../src/index.js';
import {
  type GeminiStandIn,
  type GeminiStandInOptions,
  startGeminiStandIn,
} from '../../src/testing/index.js';

/** The usage fields compared (both SDKs' usageMetadata types fit). */
export interface Usage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

let running: GeminiStandIn[] = [];

/** Starts a stand-in that is closed after the test. */
export async function standInFor(options: GeminiStandInOptions = {}): Promise<GeminiStandIn> {
  const standIn = await startGeminiStandIn(options);
  running.push(standIn);
  return standIn;
}

/** Registers the after-each hook closing every stand-in the test started. */
export function closeStandIns(): void {
  afterEach(async () => {
    const closing = running;
    running = [];
    await Promise.all(closing.map((s) => s.close()));
  });
}

/** The record holds exactly the counts of the usageMetadata the SDK returned. */
export function expectRecordOf(record: UsageRecord | undefined, usage: Usage | undefined): void {
  expect(usage?.totalTokenCount).toBeGreaterThan(0);
  expect(record).toBeDefined();
  const u = usage ?? {};
  expect(record?.usage.raw).toEqual(usage);
  expect(record?.usage).toMatchObject({
    inputTokens: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
    cacheReadTokens: u.cachedContentTokenCount ?? 0,
    reasoningTokens: u.thoughtsTokenCount ?? 0,
    totalTokens: u.totalTokenCount,
  });
  expect(record?.callId).toMatch(/^[0-9a-f-]{36}$/);
}

/** A budget a single call overspends. */
export const TINY_BUDGET = { budgetLimitUsd: 0.000001, enforce: 'hard' } as const;
