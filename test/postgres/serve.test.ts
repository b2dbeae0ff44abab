/**
 * The server and the CLI over the Postgres ledger (`TOLLGATE_DB=postgres://…`): `tollgate serve`
 * spawned as a user runs it gives the numbers a direct SQL sum gives; the API answers as over
 * the memory store; `report` and `retention` work on the URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { createPostgresStore } from '../../src/postgres/index.js';
import { femtoToDecimal } from '../../src/price/money.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { call, fixture, seedRecords } from '../server/support.js';
import { describePostgres, freshSchema, sql, usePostgresServer } from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, TOLLGATE_CONFIG: join(dir, 'rules.json'), ...env },
  });
}

function tollgate(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = start(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describePostgres('serve, report and retention over the Postgres ledger', () => {
  const server = usePostgresServer();

  it('the API answers over Postgres exactly as over the memory store', async () => {
    const records = seedRecords();
    const postgres = await createPostgresStore({
      connectionString: server().url,
      schema: freshSchema(),
    });
    const memory = new MemoryStore();
    await postgres.append(records);
    await memory.append(records);
    const onPostgres = await fixture({ store: postgres });
    const onMemory = await fixture({ store: memory });
    for (const line of [
      'GET /api/usage/summary?days=30',
      'GET /api/usage/summary?days=2&tz=America%2FNew_York',
      'GET /api/usage/users/alice?days=30',
      'GET /api/usage/by-model?days=30',
      'GET /api/usage/by-agent?days=3',
      'GET /api/usage/threads/t-a',
      'GET /api/usage/records?days=30&order=asc&userId=bob',
    ]) {
      for (const who of ['admin', 'acmeViewer'] as const) {
        const a = await call(onPostgres.handler, line, { key: onPostgres.keys[who] });
        const b = await call(onMemory.handler, line, { key: onMemory.keys[who] });
        expect(a.status, `${who} ${line}`).toBe(b.status);
        const strip = (body: { nextCursor?: unknown }) => ({
          ...body,
          nextCursor: !!body.nextCursor,
        });
        expect(strip(a.body), `${who} ${line}`).toEqual(strip(b.body));
      }
    }
    await postgres.close();
  });

  it('tollgate serve with TOLLGATE_DB=postgres://… gives the direct SQL sum; report reads it too', async () => {
    const now = Date.now();
    // The default schema, as a fleet uses it: 600 calls over 40 days, odd costs.
    const store = await createPostgresStore({ connectionString: server().url });
    await store.append(
      ledgerRecords(600, (i) => ({
        timestamp: now - Math.floor((i * 40 * DAY) / 600) - 1,
        userId: `user-${i % 9}`,
        costFemto: BigInt(i) * 987_654_321_987n + 1n,
      })),
    );
    await store.close();
    const env = { TOLLGATE_DB: server().url };
    const child = start(['serve', '--port', '0'], env);
    try {
      let stdout = '';
      const found = await new Promise<[string, string]>((done, fail) => {
        child.stdout?.on('data', (chunk) => {
          stdout += chunk;
          const key = /API key \(shown once.*\): (tg_\S+)/.exec(stdout);
          const at = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (key?.[1] && at?.[1]) done([at[1], key[1]]);
        });
        child.on('exit', (code) => fail(new Error(`serve exited ${code}`)));
      });
      expect(stdout).toContain('ledger postgres://');
      const [base, key] = found;
      const answer = (await (
        await fetch(`${base}/api/usage/summary?days=30`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { from: string; to: string; totals: { calls: number; costUsdExact: string } };
      const [direct] = await sql<{ calls: number; cost: string }>(
        server(),
        `SELECT count(*)::int AS calls, sum(cost_femto)::text AS cost FROM tollgate.records WHERE ts >= $1 AND ts < $2`,
        [Date.parse(answer.from), Date.parse(answer.to)],
      );
      expect(direct?.calls).toBeGreaterThan(400);
      expect(answer.totals.calls).toBe(direct?.calls);
      expect(answer.totals.costUsdExact).toBe(femtoToDecimal(BigInt(direct?.cost ?? '0')));
    } finally {
      child.kill('SIGTERM');
    }
    const report = await tollgate(['report', '--since', '30d'], env);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(
      /^Ledger postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres, calls since/,
    );
  });

  it('tollgate retention drops whole months of the URL ledger; a SQLite path is refused', async () => {
    // The CLI opens the default schema: records from 2024 there, and some of today's.
    const store = await createPostgresStore({ connectionString: server().url });
    await store.append(
      ledgerRecords(3, (i) => ({ callId: `old-${i}`, timestamp: Date.UTC(2024, 0, 10) })),
    );
    await store.append(ledgerRecords(2, (i) => ({ callId: `new-${i}`, timestamp: Date.now() })));
    await store.close();
    const url = server().url;
    const dry = await tollgate(['retention', '--keep', '180d', '--dry-run'], { TOLLGATE_DB: url });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^Would drop /);
    const months = async () =>
      (
        await sql<{ n: number }>(
          server(),
          `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'tollgate' AND tablename LIKE 'records_%'`,
        )
      )[0]?.n;
    const before = await months();
    const run = await tollgate(['retention', '--keep', '30d'], { TOLLGATE_DB: url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Dropped \d{4}-\d{2}/);
    expect(await months()).toBeLessThan(before ?? 0);
    const sqlite = await tollgate(['retention', '--keep', '30d', '--db', join(dir, 'x.db')], {});
    expect(sqlite.code).toBe(1);
    expect(sqlite.stderr).toMatch(/must be a postgres:\/\/ URL/);
    const bad = await tollgate(['retention', '--keep', 'soon'], { TOLLGATE_DB: url });
    expect(bad.code).toBe(2);
  });
});
