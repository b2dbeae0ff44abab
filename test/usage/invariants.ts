import { expect } from 'vitest';
import {
  MODALITIES,
  type ModalityCounts,
  SERVICE_TIERS,
  type ServiceTier,
  type TokenUsage,
} from '../../src/usage/types.js';

const COUNTS = [
  'inputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
  'toolUsePromptTokens',
  'totalTokens',
] as const;

const FORMATS = new Set(['gemini', 'langchain', 'openai', 'anthropic', 'canonical']);

function isCount(value: unknown): boolean {
  return (
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0)
  );
}

function modalityViolations(
  name: string,
  counts: ModalityCounts | undefined,
  max: number,
): string[] {
  if (counts === undefined) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(counts)) {
    if (!(MODALITIES as readonly string[]).includes(key)) out.push(`${name} has key ${key}`);
    if (!isCount(value)) out.push(`${name}.${key} = ${String(value)} is not a count`);
    else if ((value as number) > max) out.push(`${name}.${key} = ${value} > ${max}`);
  }
  return out;
}

/** Every documented `TokenUsage` invariant that `usage` breaks (empty when it holds them all). */
export function invariantViolations(usage: TokenUsage): string[] {
  const out: string[] = [];
  for (const key of COUNTS) {
    if (!isCount(usage[key])) out.push(`${key} = ${String(usage[key])} is not a count`);
  }
  if (out.length > 0) return out;
  if (usage.cacheReadTokens + usage.cacheWriteTokens > usage.inputTokens) {
    out.push('cacheRead + cacheWrite > input');
  }
  if (usage.toolUsePromptTokens > usage.inputTokens) out.push('toolUse > input');
  if (usage.reasoningTokens > usage.outputTokens) out.push('reasoning > output');
  if (usage.totalTokens !== usage.inputTokens + usage.outputTokens) out.push('total != in + out');
  if (!FORMATS.has(usage.format)) out.push(`format ${usage.format}`);
  out.push(...modalityViolations('inputByModality', usage.inputByModality, usage.inputTokens));
  out.push(...modalityViolations('outputByModality', usage.outputByModality, usage.outputTokens));
  out.push(
    ...modalityViolations('cacheReadByModality', usage.cacheReadByModality, usage.cacheReadTokens),
  );
  if (usage.cacheWriteByTtl !== undefined) {
    let sum = 0;
    for (const [ttl, value] of Object.entries(usage.cacheWriteByTtl)) {
      if (ttl !== '5m' && ttl !== '1h') out.push(`cacheWriteByTtl has key ${ttl}`);
      if (!isCount(value)) out.push(`cacheWriteByTtl.${ttl} = ${String(value)} is not a count`);
      else sum += value as number;
    }
    if (sum > usage.cacheWriteTokens) out.push('cacheWriteByTtl sum > cacheWrite');
  }
  if ('repairs' in usage) {
    if (!Array.isArray(usage.repairs) || usage.repairs.length === 0) {
      out.push('repairs present but empty');
    } else {
      for (const repair of usage.repairs) {
        if (typeof repair.field !== 'string' || repair.field === '') out.push('repair field');
        const used: unknown = repair.used;
        if (typeof used !== 'number' && !SERVICE_TIERS.includes(used as ServiceTier)) {
          out.push('repair used');
        }
        if (typeof repair.reason !== 'string' || repair.reason === '') out.push('repair reason');
      }
    }
  }
  if ('trafficType' in usage && typeof usage.trafficType !== 'string') out.push('trafficType');
  if ('serviceTier' in usage && !SERVICE_TIERS.includes(usage.serviceTier as ServiceTier)) {
    out.push(`serviceTier ${String(usage.serviceTier)}`);
  }
  return out;
}

/** Asserts every `TokenUsage` invariant. */
export function expectInvariants(usage: TokenUsage | null): asserts usage is TokenUsage {
  expect(usage).not.toBeNull();
  expect(invariantViolations(usage as TokenUsage)).toEqual([]);
}
