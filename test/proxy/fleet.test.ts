/**
 * The gateway as operators run it: `tollgate proxy` processes (spawned as a user runs them)
 * sharing one SQLite ledger and one budget. 200 clients with the real @google/genai SDK, spread
 * over two gateways: every call is recorded once, the shared budget refuses once spent, and
 * spend stays within the documented bound (here the limit itself: every request caps its output,
 * so every reservation is an upper bound of its call). curl speaks to the same gateways.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/keep/types.js';
import { usdToFemto } from '../../src/price/money.js';
import { windowKey } from '../../src/react/budgets/rules.js';
import { writeConfigFile } from '../../src/server/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import { type GeminiStandIn, startGeminiStandIn } from '../../src/testing/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const PROVIDER_KEY = 'fleet-provider-key';
const CLIENT_KEY = 'tgp_fleet-client-key-0123456789';
const LIMIT_USD = 0.004;

let dir: string;
let standIn: GeminiStandIn;
const children: ChildProcess[] = [];
const urls: string[] = [];
let env: Record<string, string>;

/** Starts `tollgate proxy` and resolves with its URL, read from its first line. */
function startProxy(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'proxy', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  children.push(child);
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const found = /tollgate proxy on (http:\/\/\S+) /.exec(out);
      if (found?.[1]) done(found[1]);
    });
    child.on('exit', (code) => fail(new Error(`tollgate proxy exited (${code}): ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-fleet-'));
  standIn = await startGeminiStandIn({ apiKey: PROVIDER_KEY, thinking: false });
  const config = join(dir, 'rules.json');
  writeConfigFile(config, {
    budgets: [
      {
        id: 'acme-day',
        scope: { kind: 'tenant', id: 'acme' },
        window: 'day',
        limitUsd: LIMIT_USD,
        mode: 'hard',
      },
    ],
    rateLimits: [],
  });
  env = {
    TOLLGATE_DB: join(dir, 'ledger.db'),
    TOLLGATE_CONFIG: config,
    TOLLGATE_PROXY_KEYS: `alice:${CLIENT_KEY}:acme`,
    GEMINI_API_KEY: PROVIDER_KEY,
    TOLLGATE_GEMINI_URL: standIn.url,
  };
  urls.push(...(await Promise.all([startProxy(), startProxy()])));
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(stop));
  await standIn?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('two gateways, one SQLite ledger, one budget', () => {
  it('serves curl, unary and streamed (SSE passed through as it comes)', async () => {
    const run = promisify(execFile);
    const url = `${urls[0]}/v1beta/models/gemini-2.0-flash`;
    const data = JSON.stringify({
      contents: [{ parts: [{ text: 'Hello from curl' }] }],
      generationConfig: { maxOutputTokens: 40 },
    });
    const unary = await run('curl', [
      '-sS',
      `${url}:generateContent`,
      '-H',
      `x-goog-api-key: ${CLIENT_KEY}`,
      '-H',
      'content-type: application/json',
      '-d',
      data,
    ]);
    expect(JSON.parse(unary.stdout).usageMetadata.promptTokenCount).toBeGreaterThan(0);
    const streamed = await run('curl', [
      '-sS',
      '--no-buffer',
      `${url}:streamGenerateContent?alt=sse&key=${CLIENT_KEY}`,
      '-H',
      'content-type: application/json',
      '-d',
      data,
    ]);
    expect(streamed.stdout.match(/^data: /gm)?.length).toBeGreaterThan(1);
  }, 30_000);

  it('200 clients: each call recorded once, spend within the limit, refusals as 402', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, client) => {
        const ai = new GoogleGenAI({
          apiKey: CLIENT_KEY,
          httpOptions: { baseUrl: urls[client % 2] as string },
        });
        const statuses: number[] = [];
        for (let call = 0; call < 3; call++) {
          try {
            const reply = await ai.models.generateContent({
              model: 'gemini-2.0-flash',
              contents: `Client ${client}, call ${call}: write a haiku about budgets.`,
              config: { maxOutputTokens: 120 },
            });
            statuses.push(reply.usageMetadata ? 200 : 0);
          } catch (error) {
            statuses.push((error as { status?: number }).status ?? -1);
          }
        }
        return statuses;
      }),
    );
    const all = outcomes.flat();
    const ok = all.filter((s) => s === 200).length;
    expect(all.filter((s) => s !== 200 && s !== 402)).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(all.filter((s) => s === 402).length).toBeGreaterThan(0);

    // The gateways write their last records when they stop.
    await Promise.all(children.map(stop));
    const store: Store = createSqliteStore({ path: env.TOLLGATE_DB as string });
    try {
      const { records } = await store.query({ limit: 10_000 });
      const fleet = records.filter((r) => r.model === 'gemini-2.0-flash' && r.tenantId === 'acme');
      // The two curl calls of the test before, plus every call a client saw succeed.
      expect(fleet.length).toBe(ok + 2);
      expect(new Set(fleet.map((r) => r.callId)).size).toBe(fleet.length);
      const spent = fleet.reduce((sum, r) => sum + r.costFemto, 0n);
      expect(spent).toBeLessThanOrEqual(usdToFemto(LIMIT_USD));
      const { key } = windowKey('tenant', 'acme', 'day', Date.now(), 'UTC');
      const [counter] = (await store.counters?.([key], Date.now())) ?? [];
      expect(counter?.reservedFemto).toBe(0n);
      expect(counter?.settledFemto).toBe(spent);
    } finally {
      await store.close();
    }
  }, 120_000);
});
