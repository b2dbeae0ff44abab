import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { newCallId, newSessionId, setCallCounter } from '../../src/account/ids.js';

describe('ids', () => {
  it('makes session ids of 8 hex digits that do not repeat within a process', () => {
    const ids = Array.from({ length: 100_000 }, newSessionId);
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('counts call ids up by one, carrying across the 24-bit halves and wrapping at 2^48', () => {
    const counter = (id: string) => Number.parseInt(id.slice(24), 16);
    setCallCounter(0xffffff - 2);
    const ids = Array.from({ length: 6 }, newCallId);
    expect(ids.map((id) => id.slice(24))).toEqual([
      '000000fffffe',
      '000000ffffff',
      '000001000000',
      '000001000001',
      '000001000002',
      '000001000003',
    ]);
    setCallCounter(2 ** 48 - 2);
    expect([newCallId(), newCallId()].map(counter)).toEqual([2 ** 48 - 1, 0]);
    const run = Array.from({ length: 10_000 }, newCallId).map(counter);
    for (let i = 1; i < run.length; i++) expect(run[i]).toBe((run[i - 1] as number) + 1);
  });

  it('makes call ids unique within a process and across processes', () => {
    const ids = Array.from({ length: 100_000 }, newCallId);
    expect(new Set(ids).size).toBe(ids.length);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(uuid);
    expect(ids[0]?.slice(0, 24)).toBe(ids[99_999]?.slice(0, 24));
    // Another process draws another prefix (and so, other session ids too).
    const script =
      "import('./src/account/ids.ts').then((m) => console.log(m.newCallId(), m.newSessionId()))";
    const other = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
    }).trim();
    const [otherCall = '', otherSession = ''] = other.split(' ');
    expect(otherCall.slice(0, 24)).not.toBe(ids[0]?.slice(0, 24));
    expect(otherCall).toMatch(uuid);
    expect(otherSession).toMatch(/^[0-9a-f]{8}$/);
  });
});
