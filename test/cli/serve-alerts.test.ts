/**
 * `tollgate serve` with alert channels: budget_forecast alerts through a real webhook receiver
 * and a real SMTP server, once per rule, user and window, also across a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { startSmtpSink, startWebhookSink, waitFor } from '../alerts/support.js';
import { ledgerRow } from '../support/ledger-rows.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'tollgate-serve-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `tollgate serve`; resolves with its output once the first forecast check is done. */
function serve(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const checked = new Promise<string>((done, fail) => {
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (/forecasts checked: \d+/.test(stdout) && /API on http/.test(stdout)) done(stdout);
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${stderr}`)));
  });
  return { child, checked };
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((done) => {
    child.on('exit', (code) => done(code));
    child.kill('SIGTERM');
  });

describe('tollgate serve: budget_forecast alerts', () => {
  it('sends each user projected past a rule once per window, by webhook and email', async () => {
    const db = join(dir, 'ledger.db');
    const store = createSqliteStore({ path: db });
    const now = Date.now();
    // alice $1 and bob $2 a day for three weeks up to now; carol $0.01 once, two days ago. Not
    // today: a user whose only spend is today's is projected from the time elapsed today, so
    // one call in the day's first hour would project past $1 (the test would depend on the hour).
    await store.append([
      ...Array.from({ length: 21 }, (_, d) => [
        ledgerRow(`a${d}`, 'alice', now - d * DAY - 1, 10n ** 15n),
        ledgerRow(`b${d}`, 'bob', now - d * DAY - 1, 2n * 10n ** 15n),
      ]).flat(),
      ledgerRow('c', 'carol', now - 2 * DAY, 10n ** 13n),
    ]);
    await store.close();
    const config = join(dir, 'rules.json');
    // $1 a month for every user: alice and bob have spent that today alone; carol will not.
    writeFileSync(
      config,
      JSON.stringify({
        budgets: [
          { id: 'each-user', scope: { kind: 'user' }, window: 'month', limitUsd: 1, mode: 'soft' },
        ],
      }),
    );
    const hook = await startWebhookSink();
    const smtp = await startSmtpSink();
    const env = {
      TOLLGATE_DB: db,
      TOLLGATE_CONFIG: config,
      TOLLGATE_ALERT_WEBHOOK: hook.url,
      TOLLGATE_ALERT_WEBHOOK_SECRET: 'a-webhook-secret-of-enough-length',
      TOLLGATE_ALERT_SMTP: `smtp://127.0.0.1:${smtp.port}`,
      TOLLGATE_ALERT_EMAIL_FROM: 'tollgate@acme.dev',
      TOLLGATE_ALERT_EMAIL_TO: 'finops@acme.dev, cto@acme.dev',
    };
    try {
      const first = serve([], env);
      const out = await first.checked;
      expect(out).toContain('forecasts checked: 2 budget_forecast alert(s) sent');
      expect(out).toMatch(/budget_forecast alerts by webhook and email, checked every 15m/);
      await waitFor(() => hook.requests.length === 2 && smtp.messages.length === 2, 15_000);
      const bodies = hook.requests.map((r) => JSON.parse(r.body));
      expect(bodies.map((b) => [b.kind, b.ruleId, b.scope]).sort()).toEqual([
        ['budget_forecast', 'each-user', 'user:alice'],
        ['budget_forecast', 'each-user', 'user:bob'],
      ]);
      expect(bodies.every((b) => b.text.startsWith('Budget forecast: '))).toBe(true);
      expect(smtp.messages.map((m) => m.to)).toEqual([
        ['finops@acme.dev', 'cto@acme.dev'],
        ['finops@acme.dev', 'cto@acme.dev'],
      ]);
      expect(smtp.messages.every((m) => m.subject.includes('Budget forecast'))).toBe(true);
      expect(await stop(first.child)).toBe(0);
      expect(existsSync(join(dir, 'rules.alerts-sent.json'))).toBe(true);
      expect(
        Object.keys(JSON.parse(readFileSync(join(dir, 'rules.alerts-sent.json'), 'utf8'))),
      ).toHaveLength(2);

      // Restarted in the same window: nothing is sent again. With --rates, ?currency= answers.
      const rates = join(dir, 'rates.json');
      writeFileSync(rates, JSON.stringify({ date: '2026-11-20', rates: { EUR: '0.5' } }));
      const second = serve(['--forecast-every', '30s', '--rates', rates], env);
      const again = await second.checked;
      expect(again).toContain('forecasts checked: 0 budget_forecast alert(s) sent');
      const base = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(again)?.[1];
      const key = /API key \(shown once.*\): (tg_\S+)/.exec(again)?.[1];
      const summary = (await (
        await fetch(`${base}/api/usage/summary?days=1&currency=EUR`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { totals: { costUsdExact: string; costInCurrency: string }; currency: object };
      expect(summary.currency).toMatchObject({ code: 'EUR', rate: '0.5', rateDate: '2026-11-20' });
      // The last day's spend × 0.5, rounded once to the cent
      expect(Number(summary.totals.costInCurrency)).toBeCloseTo(
        Math.round(Number(summary.totals.costUsdExact) * 50) / 100,
        10,
      );
      expect(await stop(second.child)).toBe(0);
      expect(hook.requests).toHaveLength(2);
      expect(smtp.messages).toHaveLength(2);
    } finally {
      await hook.close();
      await smtp.close();
    }
  }, 60_000);

  it('a half-given channel or a bad interval is one line and exit code 2', async () => {
    const run = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', MAIN, 'serve', '--port', '0', ...args],
          {
            cwd: ROOT,
            env: { ...process.env, TOLLGATE_DB: join(dir, 'none.db'), ...env },
          },
        );
        let stderr = '';
        child.stderr?.on('data', (chunk) => {
          stderr += chunk;
        });
        child.on('exit', (code) => done({ code, stderr }));
      });
    const [noSecret, noTo, badSmtp, badEvery] = await Promise.all([
      run([], { TOLLGATE_ALERT_WEBHOOK: 'http://127.0.0.1:9/hook' }),
      run([], { TOLLGATE_ALERT_SMTP: 'smtp://127.0.0.1:25', TOLLGATE_ALERT_EMAIL_FROM: 'a@b.c' }),
      run([], {
        TOLLGATE_ALERT_SMTP: 'mail.example',
        TOLLGATE_ALERT_EMAIL_FROM: 'a@b.c',
        TOLLGATE_ALERT_EMAIL_TO: 'd@e.f',
      }),
      run(['--forecast-every', '0s'], {}),
    ]);
    expect(noSecret.stderr).toMatch(
      /^tollgate serve: TOLLGATE_ALERT_WEBHOOK needs TOLLGATE_ALERT_WEBHOOK_SECRET \(try/,
    );
    expect(noTo.stderr).toMatch(
      /^tollgate serve: TOLLGATE_ALERT_SMTP needs TOLLGATE_ALERT_EMAIL_FROM and TOLLGATE_ALERT_EMAIL_TO \(try/,
    );
    expect(badSmtp.stderr).toMatch(/^tollgate serve: .*transport.*smtp:\/\//);
    expect(badEvery.stderr).toMatch(/^tollgate serve: --forecast-every: expected a duration/);
    for (const r of [noSecret, noTo, badSmtp, badEvery]) expect(r.code).toBe(2);
  }, 60_000);
});
