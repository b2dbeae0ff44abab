/**
 * The `tollgate` command line, spawned as a user runs it (`node --import tsx src/cli/main.ts`),
 * against a temporary SQLite ledger.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/keep/types.js';
import { createSqliteStore } from '../../src/sqlite/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
const db = join(dir, 'ledger.db');
const NOW = Date.now();
const HOUR = 3_600_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, TOLLGATE_DB: db, ...env },
    ...options,
  });
}

/**
 * Spawn options under which file modes hold: root ignores them, so as root the command runs as
 * `nobody`, for whom a 0444 file is read-only and a 0555 folder cannot be written.
 */
const unprivileged: SpawnOptions = process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : {};

/**
 * Whether that user can run the CLI from this checkout at all: a checkout in a private folder
 * (mode 0700, as many home directories are) is closed to `nobody`, tsx included.
 */
const unprivilegedCanRun =
  spawnSync(process.execPath, ['--import', 'tsx', '-e', ''], { cwd: ROOT, ...unprivileged })
    .status === 0;
if (!unprivilegedCanRun) {
  console.warn(
    `[tollgate] skipping the read-only ledger CLI tests: user nobody cannot read ${ROOT} (a private folder)`,
  );
}

function tollgate(
  args: string[],
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = start(args, env, options);
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

function record(i: number, parts: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    id: `r-${i}`,
    callId: `c-${i}`,
    timestamp: NOW - i * HOUR,
    sessionId: 's',
    agent: i % 2 ? 'coder' : 'planner',
    model: 'gemini-2.5-flash',
    userId: i % 3 ? 'alice' : 'bob',
    tenantId: 'acme',
    inputTokens: 1_000,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 100,
    reasoningTokens: 0,
    toolUsePromptTokens: 0,
    totalTokens: 1_100,
    priced: true,
    costFemto: 100_000_000_000_000n, // $0.1: ten of them are $1, exactly
    ...parts,
  };
}

beforeAll(async () => {
  const store = createSqliteStore({ path: db });
  // 48 calls, one an hour over two days; the first carries awkward metadata.
  await store.append(
    Array.from({ length: 48 }, (_, i) =>
      record(
        i,
        i === 0
          ? { metadata: { note: 'a,"quoted"\nline' } }
          : i === 1
            ? { serviceTier: 'flex' }
            : i === 2
              ? { serviceTier: 'provisioned' }
              : {},
      ),
    ),
  );
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noConfig = { TOLLGATE_CONFIG: join(dir, 'unused.json') };

describe('tollgate', () => {
  it('--help everywhere; no command or a wrong one is exit 2 with one line', async () => {
    const runs = await Promise.all([
      tollgate(['--help']),
      ...['report', 'export', 'prices', 'budgets', 'serve'].map((c) => tollgate([c, '--help'])),
      tollgate([]),
      tollgate(['frobnicate']),
    ]);
    const [top, ...rest] = runs;
    expect(top?.code).toBe(0);
    expect(top?.stdout).toMatch(/Commands:\n {2}report/);
    for (const [i, name] of ['report', 'export', 'prices', 'budgets', 'serve'].entries()) {
      expect(rest[i]?.code, name).toBe(0);
      expect(rest[i]?.stdout, name).toMatch(new RegExp(`^Usage: tollgate ${name}`));
    }
    expect(rest[5]?.code).toBe(2);
    expect(rest[6]).toMatchObject({ code: 2, stdout: '' });
    expect(rest[6]?.stderr).toBe('tollgate: unknown command "frobnicate" (try tollgate --help)\n');
  });

  it.each([
    [['report', '--bogus'], /^tollgate report: unknown option --bogus/],
    [['report', '--since', 'yesterday'], /^tollgate report: --since: expected a duration/],
    [['report', 'extra'], /^tollgate report: unexpected argument "extra"/],
    [['export', '--format', 'xml'], /^tollgate export: --format: expected json or csv/],
    [['export', '--format', ''], /^tollgate export: --format: expected json or csv/],
    [['prices'], /^tollgate prices: missing <model>/],
    [['budgets', 'set-user', 'alice'], /^tollgate budgets: set-user takes <userId> <usd>/],
    [
      ['budgets', 'set-user', 'alice', 'lots'],
      /^tollgate budgets: usd: expected a positive amount/,
    ],
    [['budgets', 'set-user', 'alice', '5', '--window', 'year'], /^tollgate budgets: --window/],
    [['serve', '--port', '99999'], /^tollgate serve: --port: expected 0 to 65535/],
    // Date.parse alone took these: an impossible day rolled over, and V8's legacy parser read
    // the "jun" of "junk" as June.
    [['report', '--since', '2026-02-30'], /^tollgate report: --since: expected a duration/],
    [['report', '--since', '2026-11-01 junk'], /^tollgate report: --since: expected a duration/],
    [['export', '--format', 'csv', '--since', '2026-13-01'], /^tollgate export: --since:/],
    // A value that starts with '-' (or a forgotten one): parseArgs' first line said "ambiguous".
    [
      ['report', '--since', '-1d'],
      /^tollgate report: --since: missing value \(a value starting with '-' is written --since=VALUE\)/,
    ],
    [['serve', '--port', '-1'], /^tollgate serve: --port: missing value/],
    // Empty values that used to stand for something else: the current folder, every provider.
    [['export', '--format', 'csv', '--out='], /^tollgate export: --out: expected a file name/],
    [['report', '--db='], /^tollgate report: --db: expected a SQLite file or a postgres:\/\/ URL/],
    [
      ['budgets', 'list', '--db='],
      /^tollgate budgets: --db: expected a SQLite file or a postgres:\/\/ URL/,
    ],
    [['budgets', 'list', '--window', 'day'], /^tollgate budgets: --window: only for set-user/],
    [
      ['prices', 'gemini-2.5-pro', '--provider', 'nosuch'],
      /^tollgate prices: --provider: unknown provider "nosuch"/,
    ],
    [
      ['prices', 'gemini-2.5-pro', '--provider='],
      /^tollgate prices: --provider: unknown provider ""/,
    ],
  ])('tollgate %j → exit 2 and one line on stderr', async (args, message) => {
    const run = await tollgate(args, noConfig);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('report: the console report from the ledger, exact', async () => {
    const run = await tollgate(['report', '--since', '1d', '--db', db]);
    expect(run.code).toBe(0);
    // 24 calls in the last day (hours 0..23), $0.1 each.
    expect(run.stdout).toContain('TOKEN USAGE & COST REPORT');
    expect(run.stdout).toMatch(/Total calls: +24\n/);
    expect(run.stdout).toMatch(/Total cost: +\$2\.40\n/);
    expect(run.stdout).toContain('Exact total: $2.4\n');
    // 24 hourly calls: 23 hours from the first to the last (a ledger has no one session).
    expect(run.stdout).toMatch(/\n {2}First to last call: +23h 0m\n/);
    expect(run.stdout).not.toContain('Session duration');
    expect(run.stdout).toMatch(/Cost by agent:\n {2}coder .*12 calls\n {2}planner .*12 calls/);
    const bob = await tollgate(['report', '--since', '2w', '--user', 'bob']);
    expect(bob.stdout).toMatch(/Total calls: +16\n/);
    expect(bob.stdout).toContain('(user bob)');
  });

  it('report on a missing ledger is exit 1, not a new empty file', async () => {
    const run = await tollgate(['report', '--db', join(dir, 'nope.db')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tollgate report: no ledger at .*nope\.db/);
  });

  it('--since takes ISO dates and date-times, with or without an offset', async () => {
    const runs = await Promise.all(
      ['2024-02-29', '2026-11-01T10:00Z', '2026-11-01T10:00:00.5+05:30'].map((since) =>
        tollgate(['report', '--since', since]),
      ),
    );
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    expect(runs.map((run) => /calls since (\S+)/.exec(run.stdout)?.[1])).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2026-11-01T10:00:00.000Z',
      '2026-11-01T04:30:00.500Z',
    ]);
  });

  it('serve --host "" is refused, not a server on every interface', async () => {
    const child = start(['serve', '--port', '0', '--host', ''], noConfig);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('API on')) child.kill('SIGTERM'); // listening: the bug
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stdout).toBe('');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tollgate serve: --host: expected an interface/);
  });

  it('export --out a folder fails at once, naming it (not the temporary file)', async () => {
    const run = await tollgate(['export', '--format', 'json', '--out', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `tollgate export: cannot write ${dir}: it is a folder (give --out a file name)\n`,
    );
  });

  describe('file modes', () => {
    // A folder anyone may enter, holding a read-only copy of the ledger and a locked folder.
    const open = join(dir, 'open');
    const readOnly = join(open, 'read-only.db');
    const locked = join(open, 'locked');
    beforeAll(() => {
      mkdirSync(locked, { recursive: true });
      chmodSync(dir, 0o755);
      chmodSync(open, 0o777);
      copyFileSync(db, readOnly);
      chmodSync(readOnly, 0o444);
      chmodSync(locked, 0o555);
    });

    it.skipIf(!unprivilegedCanRun)(
      'report on a read-only ledger is the report and exit 0',
      async () => {
        const run = await tollgate(['report', '--since', '1d', '--db', readOnly], {}, unprivileged);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('Exact total: $2.4\n');
      },
    );

    it.skipIf(!unprivilegedCanRun)(
      'export into a folder that cannot be written: one line and exit 1, no stack trace',
      async () => {
        // JSON of 48 records outgrows the stream's buffer: the export waited for a 'drain' that a
        // failed file never emits, and the failure came as an unhandled 'error' event.
        const out = join(locked, 'all.json');
        const run = await tollgate(
          ['export', '--format', 'json', '--db', readOnly, '--out', out],
          {},
          unprivileged,
        );
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
          `tollgate export: cannot write ${out}: permission denied (EACCES)\n`,
        );
      },
    );
  });

  it('export csv and json stream every record, money exact', async () => {
    const [csv, json] = await Promise.all([
      tollgate(['export', '--format', 'csv']),
      tollgate(['export', '--since', '5h']), // JSON by default
    ]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,callId,time,sessionId,agent,.*,costUsdExact,metadata$/);
    // 48 records; the first one's metadata holds a quote and a line break, quoted per RFC 4180.
    expect(csv.stdout).toContain('"{""note"":""a,\\""quoted\\""\\nline""}"');
    expect(lines).toHaveLength(49);
    expect(lines[1]).toMatch(/,0\.1,$/);
    expect(csv.stderr).toBe(''); // not a terminal: no progress bar
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as {
      records: { costUsdExact: string; timestamp: number }[];
    };
    expect(body.records).toHaveLength(5);
    expect(body.records.map((r) => r.costUsdExact)).toEqual(Array(5).fill('0.1'));
    expect(body.records[0]?.timestamp).toBeLessThan(body.records[4]?.timestamp ?? 0);
  });

  it('export csv and json carry each record’s service tier and whether it was prepaid', async () => {
    const [csv, json] = await Promise.all([
      tollgate(['export', '--format', 'csv']),
      tollgate(['export', '--format', 'json']),
    ]);
    const rows = csv.stdout.trimEnd().split('\r\n');
    const header = rows[0]?.split(',') ?? [];
    const cell = (callId: string, column: string) =>
      rows.find((row) => row.startsWith(`r-${callId.slice(2)},${callId},`))?.split(',')[
        header.indexOf(column)
      ];
    expect(header).toContain('serviceTier');
    expect([cell('c-1', 'serviceTier'), cell('c-1', 'prepaid')]).toEqual(['flex', 'false']);
    expect([cell('c-2', 'serviceTier'), cell('c-2', 'prepaid')]).toEqual(['provisioned', 'true']);
    expect([cell('c-5', 'serviceTier'), cell('c-5', 'prepaid')]).toEqual(['standard', 'false']);
    const records = (JSON.parse(json.stdout) as { records: Record<string, unknown>[] }).records;
    expect(records.find((r) => r.callId === 'c-1')).toMatchObject({ serviceTier: 'flex' });
    expect(records.find((r) => r.callId === 'c-2')).toMatchObject({ prepaid: true });
  });

  it('export --out writes the file whole, with a progress bar when asked', async () => {
    const out = join(dir, 'exports', 'all.json');
    const run = await tollgate(['export', '--format', 'json', '--out', out, '--progress']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/export \[#{30}\] 100% 48\/48/);
    expect(run.stderr).toContain(`48 records written to ${out}`);
    expect(JSON.parse(readFileSync(out, 'utf8')).records).toHaveLength(48);
  });

  it('prices: the catalog prices and long-context tiers of a model', async () => {
    const [pro, json, unknown] = await Promise.all([
      tollgate(['prices', 'gemini-2.5-pro']),
      tollgate(['prices', 'models/gemini-2.5-flash', '--json']),
      tollgate(['prices', 'no-such-model']),
    ]);
    expect(pro.code).toBe(0);
    expect(pro.stdout).toMatch(/^gemini-2\.5-pro \(google, catalog\)/);
    expect(pro.stdout).toMatch(
      /input +\$1\.25 \/ Mtok +above 200,000 prompt tokens: \$2\.5 \/ Mtok/,
    );
    expect(pro.stdout).toMatch(/cached input \(read\) +\$0\.125 \/ Mtok/);
    expect(pro.stdout).toMatch(/output +\$10 \/ Mtok +above 200,000 prompt tokens: \$15 \/ Mtok/);
    const flash = JSON.parse(json.stdout) as { prices: { unit: string; usd: string }[] };
    expect(flash.prices).toContainEqual(
      expect.objectContaining({ unit: 'input_audio_mtok', usd: '1' }),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no price for "no-such-model"/);
  });

  it('budgets set-user persists beside the ledger; list shows it', async () => {
    const env = { TOLLGATE_CONFIG: join(dir, 'rules.json') };
    const set = await tollgate(['budgets', 'set-user', 'alice', '5'], env);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^alice: \$5 per day \(hard, rule user:alice:day\)/);
    await tollgate(['budgets', 'set-user', 'bob', '2.5', '--window', 'month'], env);
    await tollgate(['budgets', 'set-user', 'alice', '7'], env);
    const saved = JSON.parse(readFileSync(env.TOLLGATE_CONFIG, 'utf8'));
    expect(saved.budgets.map((b: { id: string; limitUsd: number }) => [b.id, b.limitUsd])).toEqual([
      ['user:alice:day', 7],
      ['user:bob:month', 2.5],
    ]);
    const list = await tollgate(['budgets', 'list'], env);
    expect(list.stdout).toMatch(/user:alice:day +user alice +\$7 per day \(hard\)/);
  });

  it('serve: prints its URL and key, answers, persists changes, stops on SIGTERM', async () => {
    const config = join(dir, 'serve.json');
    const child = start(['serve', '--port', '0'], { TOLLGATE_CONFIG: config });
    let stdout = '';
    const url = await new Promise<string>((done, fail) => {
      child.stdout?.on('data', (chunk) => {
        stdout += chunk;
        const key = /API key \(shown once.*\): (tg_\S+)/.exec(stdout);
        const at = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (key && at) done(`${at[1]}|${key[1]}`);
      });
      child.on('exit', (code) => fail(new Error(`serve exited ${code}`)));
    });
    const [base, key] = url.split('|') as [string, string];
    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(200);
    const auth = { authorization: `Bearer ${key}` };
    const summary = (await (
      await fetch(`${base}/api/usage/summary?days=1`, { headers: auth })
    ).json()) as {
      totals: { calls: number; costUsdExact: string };
    };
    expect(summary.totals).toMatchObject({ calls: 24, costUsdExact: '2.4' });
    const put = await fetch(`${base}/api/budgets/team`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        scope: { kind: 'tenant', id: 'acme' },
        window: 'month',
        limitUsd: 50,
        mode: 'soft',
      }),
    });
    expect(put.status).toBe(201);
    const savedIds = () =>
      (JSON.parse(readFileSync(config, 'utf8')).budgets as { id: string }[]).map((b) => b.id);
    expect(savedIds()).toEqual(['team']);

    // The CLI changes the file while the server runs: the server picks the rule up…
    const set = await tollgate(['budgets', 'set-user', 'carol', '3'], { TOLLGATE_CONFIG: config });
    expect(set.code).toBe(0);
    expect(savedIds()).toEqual(['team', 'user:carol:day']);
    const served = async () =>
      (
        (await (await fetch(`${base}/api/budgets`, { headers: auth })).json()) as {
          budgets: { id: string }[];
        }
      ).budgets.map((b) => b.id);
    for (let waited = 0; !(await served()).includes('user:carol:day'); waited += 50) {
      if (waited > 10_000) throw new Error('the server did not pick up the CLI change');
      await new Promise((r) => setTimeout(r, 50));
    }
    // …and its own next change keeps the CLI's (no lost update).
    const second = await fetch(`${base}/api/budgets/ops`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: { kind: 'global' }, window: 'day', limitUsd: 9, mode: 'soft' }),
    });
    expect(second.status).toBe(201);
    expect(savedIds()).toEqual(['team', 'user:carol:day', 'ops']);
    const code = await new Promise<number | null>((done) => {
      child.on('exit', done);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
