/** `tollgate budgets list` with forecasts from a seeded ledger, in process. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../src/cli/run.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { ledgerRow } from '../support/ledger-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-forecast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 15, 12);
const TODAY = Date.UTC(2026, 10, 15);

it('lists each rule with its forecast and the ledger month', async () => {
  const db = join(dir, 'ledger.db');
  const store = createSqliteStore({ path: db });
  const records: LedgerRecord[] = [];
  for (let d = 0; d <= 20; d++) {
    const id = `r${d}`;
    records.push(ledgerRow(id, 'alice', TODAY - d * DAY + 6 * 3_600_000, 10n ** 15n));
  }
  await store.append(records);
  await store.close();
  writeFileSync(
    join(dir, 'ledger.config.json'),
    JSON.stringify({
      budgets: [
        {
          id: 'alice-month',
          scope: { kind: 'user', id: 'alice' },
          window: 'month',
          limitUsd: 20,
          mode: 'hard',
        },
        { id: 'each-user', scope: { kind: 'user' }, window: 'week', limitUsd: 5, mode: 'soft' },
        {
          id: 'google',
          scope: { kind: 'provider', id: 'google' },
          window: 'month',
          limitUsd: 25,
          mode: 'soft',
        },
      ],
    }),
  );
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c) => {
    out += c;
  });
  const code = await main(['budgets', 'list', '--db', db], {
    stdout,
    stderr: new PassThrough(),
    env: {},
    now: () => NOW,
  });
  expect(code).toBe(0);
  const lines = out.trim().split('\n');
  expect(lines[0]).toMatch(/^alice-month +user alice +\$20 per month \(hard\)$/);
  // $1 a day: $15 so far (1st–15th), $30.50 by December, out of $20 on the 20th at noon
  expect(lines[1]).toBe(
    '  spent $15.00 since 2026-11-01T00:00:00.000Z; projected $30.50 ($30.50–$30.50) by 2026-12-01T00:00:00.000Z; runs out 2026-11-20T12:00:00.000Z',
  );
  // Every user (alice's own rule is for the month, not the week): the one projected highest,
  // how many users spend, how many pass the limit. The week of Monday the 9th: $7 of $5 so far.
  expect(lines[2]).toMatch(/^each-user +every user +\$5 per week \(soft\)$/);
  expect(lines[3]).toBe(
    '  highest of 1, 1 projected past the limit: alice spent $7.00 since 2026-11-09T00:00:00.000Z; projected $7.50 ($7.50–$7.50) by 2026-11-16T00:00:00.000Z; runs out 2026-11-15T12:00:00.000Z',
  );
  // A provider: the calls on its models.
  expect(lines[4]).toMatch(/^google +provider google +\$25 per month \(soft\)$/);
  expect(lines[5]).toBe(
    '  spent $15.00 since 2026-11-01T00:00:00.000Z; projected $30.50 ($30.50–$30.50) by 2026-12-01T00:00:00.000Z; runs out 2026-11-25T12:00:00.000Z',
  );
  expect(lines[6]).toMatch(/^ledger this month: spent \$15\.00 .* projected \$30\.50 /);
});

it('budgets list --currency: limits and forecasts converted, the rate named', async () => {
  const db = join(dir, 'ledger.db');
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c) => {
    out += c;
  });
  const code = await main(['budgets', 'list', '--db', db, '--currency', 'JPY'], {
    stdout,
    stderr: new PassThrough(),
    env: { TOLLGATE_FX_RATES: '{"date":"2026-11-20","rates":{"JPY":"150.5"}}' },
    now: () => NOW,
  });
  expect(code).toBe(0);
  const lines = out.trim().split('\n');
  expect(lines[0]).toBe(
    'JPY at 150.5 per USD (rate of 2026-11-20, TOLLGATE_FX_RATES); USD is the unit of account',
  );
  // $20 → ¥3,010; $15 → ¥2,258 (2,257.5, half away from zero); $30.50 → ¥4,590 (4,590.25)
  expect(lines[1]).toMatch(/^alice-month +user alice +¥3,010 per month \(hard\)$/);
  expect(lines[2]).toBe(
    '  spent ¥2,258 since 2026-11-01T00:00:00.000Z; projected ¥4,590 (¥4,590–¥4,590) by 2026-12-01T00:00:00.000Z; runs out 2026-11-20T12:00:00.000Z',
  );
  const refused = await main(['budgets', 'set-user', 'bob', '3', '--db', db, '--currency', 'EUR'], {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env: {},
    now: () => NOW,
  });
  expect(refused).toBe(2);
});
