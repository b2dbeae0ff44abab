import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { main } from '../../src/cli/run.js';
import { getInsights, ledgerInsights } from '../../src/insights/index.js';
import { toLedgerRecord } from '../../src/keep/record.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { runCli } from '../support/cli-io.js';
import { usage } from '../support/usage-factory.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-insights-cli-'));
const db = join(dir, 'ledger.db');

/** A writer/critic loop whose prompts grow, on 2.5 Flash, for two users. */
function loopTracker(): TokenTracker {
  const tracker = new TokenTracker();
  for (const [u, user] of ['alice', 'bob'].entries()) {
    [2_100, 4_000, 6_500, 9_800].forEach((inputTokens, i) => {
      for (const agent of ['writer', 'critic']) {
        tracker.record({
          agent,
          model: 'gemini-2.5-flash',
          usage: usage({ inputTokens, outputTokens: 800, reasoningTokens: 600 }),
          userId: user,
          threadId: `${user}-run`,
          timestamp: NOW - 86_400_000 * (u + 1) + i * 1000 + (agent === 'critic' ? 500 : 0),
        });
      }
    });
  }
  return tracker;
}

beforeAll(async () => {
  const store = createSqliteStore({ path: db });
  const tracker = loopTracker();
  await store.append(tracker.getUsageHistory().map((r) => toLedgerRecord(r, tracker.sessionId)));
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return runCli(args, { TOLLGATE_DB: db }, NOW);
}

describe('console report: Suggestions section', () => {
  it('is on by default, with the largest savings, and off with suggestions: false', () => {
    const tracker = loopTracker();
    const report = tracker.getCostBreakdownReport();
    const section = report.slice(report.indexOf('Suggestions:'));
    expect(section).toMatch(/^Suggestions:\n {2}- /);
    expect(section).toContain('gemini-2.5-flash-lite');
    expect(section).toContain(
      'writer → critic loop ran up to 4 iterations (summed over 2 threads)',
    );
    expect(section).not.toContain('calls to gemini-2.5-flash:');
    // At most 5 lines, then a count of the rest.
    expect(section.split('\n').filter((l) => l.startsWith('  - ')).length).toBe(5);
    expect(section).toMatch(/… \d+ more/);
    expect(report.indexOf('Cost by model')).toBeLessThan(report.indexOf('Suggestions:'));
    expect(tracker.getCostBreakdownReport({ suggestions: false })).not.toContain('Suggestions');
  });

  it('has no section when there is nothing to suggest', () => {
    expect(new TokenTracker().getCostBreakdownReport()).not.toContain('Suggestions');
  });

  it('the JSON export carries the insights', () => {
    const tracker = loopTracker();
    const exported = JSON.parse(JSON.stringify(tracker.toJSON()));
    expect(exported.insights).toEqual(JSON.parse(JSON.stringify(getInsights(tracker))));
  });
});

describe('ledgerInsights and tollgate insights', () => {
  it('reads every page of the ledger and filters by user', async () => {
    const store = createSqliteStore({ path: db });
    try {
      const all = await ledgerInsights(store, {});
      expect(all.calls).toBe(16);
      expect(all.truncated).toBe(false);
      const alice = await ledgerInsights(store, { userId: 'alice' });
      expect(alice.calls).toBe(8);
      const capped = await ledgerInsights(store, {}, { maxRecords: 5 });
      expect(capped).toMatchObject({ calls: 5, truncated: true });
    } finally {
      await store.close();
    }
  });

  it('prints what-if tables and suggestions', async () => {
    const { code, out } = await cli(['insights', '--since', '30d', '--user', 'alice']);
    expect(code).toBe(0);
    expect(out).toMatch(/^8 calls, \$0\.\d+/);
    expect(out).toMatch(/what_if: writer: the same 4 calls on gemini-2\.5-flash-lite/);
    expect(out).toMatch(/ {4}current +\$0\.\d{4}\n {4}gemini-2\.5-flash-lite +\$0\.\d{4} {2}saves/);
    expect(out).toContain('iteration 4:');
  });

  it('--json matches ledgerInsights; --candidate sets the table; --since filters', async () => {
    const { out } = await cli(['insights', '--json', '--candidate', 'writer=gemini-2.0-flash']);
    const report = JSON.parse(out);
    const writer = report.insights.find(
      (i: { kind: string; agent?: string }) => i.kind === 'what_if' && i.agent === 'writer',
    );
    expect(writer.table.map((r: { model: string }) => r.model)).toEqual([
      'current',
      'gemini-2.0-flash',
    ]);
    const recent = JSON.parse((await cli(['insights', '--json', '--since', '36h'])).out);
    expect(recent.calls).toBe(8);
  });

  it('--currency shows amounts in that currency with the rate, rounded once', async () => {
    const env = { TOLLGATE_FX_RATES: '{"date":"2026-11-19","rates":{"JPY":"150"}}' };
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c) => {
      out += c;
    });
    const code = await main(['insights', '--currency', 'JPY', '--user', 'alice'], {
      stdout,
      stderr: new PassThrough(),
      env: { TOLLGATE_DB: db, ...env },
      now: () => NOW,
    });
    expect(code).toBe(0);
    const store = createSqliteStore({ path: db });
    const report = await ledgerInsights(store, { userId: 'alice' });
    await store.close();
    const yen = Math.round(Number(report.costUsdExact) * 150);
    expect(out.split('\n')[0]).toBe(`8 calls, ¥${yen} ($${report.costUsdExact} exact)`);
    expect(out).toContain('JPY at 150 per USD (rate of 2026-11-19, TOLLGATE_FX_RATES)');
  });

  it('bad arguments are one clear line with exit code 2 or 1', async () => {
    const bad = await cli(['insights', '--candidate', 'writer']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--candidate "writer": write AGENT=MODEL/);
    const unknown = await cli(['insights', '--candidate', 'writer=no-such-model']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/Unknown model "no-such-model"/);
    expect(unknown.err.trim().split('\n')).toHaveLength(1);
    const missing = await cli(['insights', '--db', join(dir, 'nope.db')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no ledger at');
  });
});
