import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { newCallId, newSessionId } from '../../src/account/ids.js';

describe('ids', () => {
  it('makes session ids of 8 hex digits that do not repeat within a process', () => {
    const ids = Array.from({ length: 100_000 }, newSessionId);
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
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
