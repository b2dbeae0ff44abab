/**
 * The exhaustion scenario of issue 13, as a benchmark: a server over a small SQLite ledger
 * (2,700 calls over 90 days, 40 tenants), in its own process, while
 * - a viewer scoped to one tenant asks for the widest summary, cycling through IANA time zones,
 * - an unscoped viewer asks for the widest summary, cycling through tenants,
 * two requests at a time, and a third caller (its own key) polls the 30-day summary every
 * 50 ms. Reported: the attackers' statuses and durations, the other caller's latency (p50, p99,
 * max; target p99 ≤ 50 ms) and the server's resident memory and heap (after a GC) before and
 * after. Bounded: fixed request counts, 127.0.0.1 only, the ledger in the OS temp dir.
 *
 * Standalone: `node --import tsx bench/server-exhaustion.ts` (writes
 * outputs/bench-server-exhaustion.json).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LedgerRecord } from '../src/keep/types.js';
import { createApiKey, createHandler, serve } from '../src/server/index.js';
import { createSqliteStore } from '../src/sqlite/index.js';
import { median, writeResult } from './stats.js';

const CALLS = 2_700;
const TENANTS = 40;
const DAY = 86_400_000;
const SPAN_DAYS = 90;
/** Requests per attacker (each a distinct zone or tenant). */
const ATTACK_REQUESTS = 40;
/** Asked first; a server that refuses it (400) is asked for its documented maximum instead. */
const WIDE_DAYS = 3650;
const BOUNDED_DAYS = 366;
const POLL_MS = 50;
const SELF = fileURLToPath(import.meta.url);

function records(end: number): LedgerRecord[] {
  return Array.from({ length: CALLS }, (_, i) => {
    const input = 400 + ((i * 37) % 4_000);
    const output = 40 + ((i * 11) % 800);
    return {
      id: `x-${i}`,
      callId: `x-call-${i}`,
      timestamp: end - DAY - Math.floor((i / CALLS) * SPAN_DAYS * DAY),
      sessionId: `session-${i % 60}`,
      agent: ['planner', 'researcher', 'coder'][i % 3] as string,
      model: ['gemini-2.5-flash', 'gemini-2.5-pro'][i % 2] as string,
      provider: 'google',
      userId: `user-${i % 50}`,
      tenantId: `tenant-${i % TENANTS}`,
      inputTokens: input,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: output,
      reasoningTokens: 0,
      toolUsePromptTokens: 0,
      totalTokens: input + output,
      priced: true,
      costFemto: BigInt(input * 300_000_000 + output * 2_500_000_000),
    };
  });
}

/** The server: prints `READY <url>`; on a `gc` line on stdin, collects and prints its heap. */
async function child(db: string, hashes: string[]): Promise<void> {
  const store = createSqliteStore({ path: db });
  await store.append(records(Date.now()));
  const [attacker, unscoped, other] = hashes as [string, string, string];
  const handler = createHandler({
    store,
    auth: {
      apiKeys: [
        { id: 'scoped', hash: attacker, role: 'viewer', tenantId: 'tenant-0' },
        { id: 'unscoped', hash: unscoped, role: 'viewer' },
        { id: 'other', hash: other, role: 'viewer' },
      ],
    },
  });
  const running = await serve(handler, { port: 0 });
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (line: string) => {
    if (!line.startsWith('gc')) return;
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    process.stdout.write(`MEMORY ${JSON.stringify({ heapUsed, rss })}\n`);
  });
  process.stdout.write(`READY ${running.url}\n`);
  process.once('SIGTERM', async () => {
    await running.close();
    await store.close();
    process.exit(0);
  });
}

interface Server {
  child: ChildProcess;
  url: string;
  memory(): Promise<{ heapUsed: number; rss: number }>;
}

function startServer(db: string, hashes: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', SELF, '--child', db, ...hashes],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  const waiters: ((line: string) => void)[] = [];
  child.stdout?.on('data', (chunk) => {
    out += chunk;
    for (;;) {
      const end = out.indexOf('\n');
      if (end < 0) break;
      const line = out.slice(0, end);
      out = out.slice(end + 1);
      if (line.startsWith('MEMORY ')) waiters.shift()?.(line.slice(7));
      if (line.startsWith('READY ')) waiters.shift()?.(line.slice(6));
    }
  });
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    next().then((url) =>
      resolve({
        child,
        url,
        memory: async () => {
          const answer = next();
          child.stdin?.write('gc\n');
          return JSON.parse(await answer) as { heapUsed: number; rss: number };
        },
      }),
    );
  });
}

async function timed(url: string, key: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

/** The widest range this server accepts. */
async function widest(base: string, key: string): Promise<number> {
  const probe = await timed(`${base}/api/usage/summary?days=${WIDE_DAYS}&tz=UTC`, key);
  return probe.status === 400 ? BOUNDED_DAYS : WIDE_DAYS;
}

async function attack(paths: string[], key: string, base: string, concurrency = 2) {
  const results: { ms: number; status: number }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) {
        const path = paths[next++] as string;
        results.push(await timed(`${base}${path}`, key));
      }
    }),
  );
  return results;
}

const round = (n: number) => Math.round(n * 100) / 100;
const mib = (bytes: number) => round(bytes / 1_048_576);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function statuses(results: { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of results) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export async function runExhaustionBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-exhaustion-'));
  const keys = [createApiKey('viewer'), createApiKey('viewer'), createApiKey('viewer')];
  const [scoped, unscoped, other] = keys.map((k) => k.key) as [string, string, string];
  let server: Server | undefined;
  try {
    server = await startServer(
      join(dir, 'ledger.db'),
      keys.map((k) => k.record.hash),
    );
    const base = server.url;
    const poll = `${base}/api/usage/summary?days=30`;
    for (let i = 0; i < 20; i++) await timed(poll, other); // warm-up
    const quiet: number[] = [];
    for (let i = 0; i < 40; i++) {
      quiet.push((await timed(poll, other)).ms);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const before = await server.memory();
    const days = await widest(base, scoped);
    const zones = Intl.supportedValuesOf('timeZone').slice(0, ATTACK_REQUESTS);
    const zonePaths = zones.map((tz) => `/api/usage/summary?days=${days}&tz=${tz}`);
    const tenantPaths = Array.from(
      { length: ATTACK_REQUESTS },
      (_, i) => `/api/usage/summary?days=${days}&tenant=tenant-${i}`,
    );
    // The other caller polls while both attackers run.
    const during: number[] = [];
    let attacking = true;
    const poller = (async () => {
      while (attacking) {
        during.push((await timed(poll, other)).ms);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
    const started = performance.now();
    const [byZone, byTenant] = await Promise.all([
      attack(zonePaths, scoped, base),
      attack(tenantPaths, unscoped, base),
    ]);
    const attackSeconds = (performance.now() - started) / 1000;
    attacking = false;
    await poller;
    const after = await server.memory();
    const rssAfter = vmRss(server.child.pid);
    const summarize = (results: { ms: number; status: number }[]) => ({
      statuses: statuses(results),
      medianMs: round(median(results.map((r) => r.ms))),
      maxMs: round(Math.max(...results.map((r) => r.ms))),
    });
    return {
      what: `${CALLS.toLocaleString('en-US')}-call SQLite ledger over ${SPAN_DAYS} days, ${TENANTS} tenants; a tenant-scoped viewer asks /api/usage/summary?days=${days} in ${ATTACK_REQUESTS} time zones and an unscoped viewer the same for ${ATTACK_REQUESTS} tenants, 2 requests at a time each, while a third key polls ?days=30 every ${POLL_MS} ms; server in its own process, loopback`,
      days,
      attackSeconds: round(attackSeconds),
      scopedViewerCyclingZones: summarize(byZone),
      unscopedViewerCyclingTenants: summarize(byTenant),
      otherCaller: {
        quietMs: { p50: round(median(quiet)), p99: round(percentile(quiet, 99)) },
        duringAttackMs: {
          requests: during.length,
          p50: round(median(during)),
          p99: round(percentile(during, 99)),
          max: round(Math.max(...during)),
        },
        targetP99Ms: 50,
      },
      serverMemoryMiB: {
        heapBefore: mib(before.heapUsed),
        heapAfter: mib(after.heapUsed),
        heapGrowth: mib(after.heapUsed - before.heapUsed),
        rssBefore: mib(before.rss),
        rssAfter: mib(after.rss),
        rssGrowth: mib(after.rss - before.rss),
        vmRssAfter: rssAfter === undefined ? null : mib(rssAfter),
      },
      notes:
        'Heap figures are after a full GC in the server process. The attack is sequential per attacker (2 in flight each); the other caller has its own key, so per-key rate limits do not touch it.',
    };
  } finally {
    server?.child.kill('SIGTERM');
    if (server && server.child.exitCode === null) {
      await new Promise((resolve) => server?.child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The process's resident set from /proc (Linux), in bytes. */
function vmRss(pid: number | undefined): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as string, process.argv.slice(4));
  } else {
    const result = await runExhaustionBenchmark();
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${writeResult('bench-server-exhaustion', { exhaustion: result })}`);
  }
}
