/**
 * A ledger record as a Redis hash and back. Short field names keep 24 h of records small; the
 * cost is the exact femto-dollar integer as a decimal string (never a float).
 */
import { storedTier } from '../keep/checks.js';
import type { LedgerRecord } from '../keep/types.js';
import { parseServiceTier } from '../usage/tier.js';

type Optional = 'node' | 'provider' | 'userId' | 'tenantId' | 'threadId';
type Count =
  | 'inputTokens'
  | 'cacheReadTokens'
  | 'cacheWriteTokens'
  | 'outputTokens'
  | 'reasoningTokens'
  | 'toolUsePromptTokens'
  | 'totalTokens';

const OPTIONAL: readonly [Optional, string][] = [
  ['node', 'n'],
  ['provider', 'p'],
  ['userId', 'u'],
  ['tenantId', 'te'],
  ['threadId', 'th'],
];
const COUNTS: readonly [Count, string][] = [
  ['inputTokens', 'it'],
  ['cacheReadTokens', 'cr'],
  ['cacheWriteTokens', 'cw'],
  ['outputTokens', 'ot'],
  ['reasoningTokens', 'rt'],
  ['toolUsePromptTokens', 'tu'],
  ['totalTokens', 'tt'],
];

/** Field/value pairs for HSET. */
export function encodeRecord(record: LedgerRecord): string[] {
  const fields = [
    'i',
    record.id,
    'ci',
    record.callId,
    'ts',
    String(record.timestamp),
    's',
    record.sessionId,
    'a',
    record.agent,
    'm',
    record.model,
    'pr',
    record.priced ? '1' : '0',
    'c',
    record.costFemto.toString(),
  ];
  for (const [name, field] of OPTIONAL) {
    const value = record[name];
    if (value !== undefined) fields.push(field, value);
  }
  for (const [name, field] of COUNTS) fields.push(field, String(record[name]));
  const tier = storedTier(record.serviceTier);
  if (tier !== undefined) fields.push('st', tier);
  if (record.metadata !== undefined) {
    // A bigint in metadata would make JSON.stringify throw: keep it as its decimal string.
    fields.push(
      'md',
      JSON.stringify(record.metadata, (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  }
  return fields;
}

/** The record from HGETALL, or undefined when the hash has expired (empty). */
export function decodeRecord(hash: Record<string, string>): LedgerRecord | undefined {
  if (hash.ci === undefined) return undefined;
  const record: LedgerRecord = {
    id: hash.i ?? hash.ci,
    callId: hash.ci,
    timestamp: Number(hash.ts),
    sessionId: hash.s ?? '',
    agent: hash.a ?? '',
    model: hash.m ?? '',
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 0,
    priced: hash.pr === '1',
    costFemto: BigInt(hash.c ?? '0'),
  };
  for (const [name, field] of OPTIONAL) {
    const value = hash[field];
    if (value !== undefined) record[name] = value;
  }
  for (const [name, field] of COUNTS) record[name] = Number(hash[field] ?? 0);
  const tier = parseServiceTier(hash.st);
  if (tier !== undefined && tier !== 'standard') record.serviceTier = tier;
  if (hash.md !== undefined) record.metadata = JSON.parse(hash.md) as Record<string, unknown>;
  return record;
}
