import { expect } from 'vitest';

/** The usage fields the assertions read (both SDKs' types are structurally compatible). */
export interface Usage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

/** total = prompt + candidates + thoughts + toolUsePrompt, cached ≤ prompt. */
export function expectIdentity(usage: Usage | undefined): void {
  expect(usage).toBeDefined();
  const u = usage ?? {};
  expect(u.totalTokenCount).toBe(
    (u.promptTokenCount ?? 0) +
      (u.candidatesTokenCount ?? 0) +
      (u.thoughtsTokenCount ?? 0) +
      (u.toolUsePromptTokenCount ?? 0),
  );
  expect(u.cachedContentTokenCount ?? 0).toBeLessThanOrEqual(u.promptTokenCount ?? 0);
}

/** Every chunk satisfies the identity and each count is a non-decreasing running total. */
export function expectCumulative(usages: (Usage | undefined)[]): void {
  expect(usages.length).toBeGreaterThan(1);
  const fields = [
    'promptTokenCount',
    'candidatesTokenCount',
    'thoughtsTokenCount',
    'totalTokenCount',
  ] as const;
  let previous: Usage = {};
  for (const usage of usages) {
    expectIdentity(usage);
    for (const field of fields) {
      expect(usage?.[field] ?? 0).toBeGreaterThanOrEqual(previous[field] ?? 0);
    }
    previous = usage ?? {};
  }
  expect(usages.at(-1)?.candidatesTokenCount ?? 0).toBeGreaterThan(
    usages[0]?.candidatesTokenCount ?? 0,
  );
}
