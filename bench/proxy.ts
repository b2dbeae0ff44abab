/**
 * Overhead of the tracking gateway (issue 15), measured as llm-gateway-bench measures gateways:
 * sequential requests to a local mock upstream, interleaved with the same requests sent to the
 * upstream directly, the overhead of a round being the difference of the two medians, and the
 * figure the median of the rounds' overheads. The gateway runs as operators run it: tracking on,
 * a SQLite ledger (batched writes), a gateway key and a hard budget (one reservation and one
 * settlement a call). Upstream, gateway and load generator each run in their own process.
 *
 * Also: unary throughput (autocannon, 50 connections), concurrent streams (N streams held open
 * at once, each 10 SSE chunks 100 ms apart, all completing), and p99 overhead at 1,000 req/s.
 * Anchors (llm-gateway-bench, median overhead): Bifrost 0.44 ms, Portkey 2.37 ms, LiteLLM 4.34 ms.
 *
 * Standalone: `node --import tsx bench/proxy.ts` (writes outputs/bench-proxy.json).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createProxy, serveProxy } from '../src/proxy/index.js';
import { BudgetManager } from '../src/react/budgets/index.js';
import { hashApiKey } from '../src/server/index.js';
import { createSqliteStore } from '../src/sqlite/index.js';
import { median, writeResult } from './stats.js';

const SELF = fileURLToPath(import.meta.url);
const KEY = 'tgp_bench-key-0123456789abcdef';
const PROVIDER_KEY = 'bench-provider-key';
const ROUNDS = 15;
const PER_ROUND = 200;
const WARMUP = 500;
const PATH = '/v1beta/models/gemini-2.5-flash:generateContent';
const STREAM_PATH = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
const BODY = JSON.stringify({
  contents: [{ role: 'user', parts: [{ text: 'Reply with one short sentence about tokens.' }] }],
  generationConfig: { maxOutputTokens: 64 },
});
const ANCHORS_MS = { bifrost: 0.44, portkey: 2.37, litellm: 4.34 };

/** The mock upstream: one fixed Gemini answer; streams send 10 chunks 100 ms apart. */
function upstreamReply(): { unary: string; chunk: (i: number, last: boolean) => string } {
  const usage = (out: number) => ({
    promptTokenCount: 9,
    candidatesTokenCount: out,
    totalTokenCount: 9 + out,
  });
  const unary = JSON.stringify({
    candidates: [
      {
        content: { role: 'model', parts: [{ text: 'Tokens are what you pay for.' }] },
        finishReason: 'STOP',
      },
    ],
    usageMetadata: usage(7),
    modelVersion: 'gemini-2.5-flash',
  });
  const chunk = (i: number, last: boolean) =>
    `data: ${JSON.stringify({
      candidates: [
        {
          content: { role: 'model', parts: [{ text: `word${i} ` }] },
          ...(last && { finishReason: 'STOP' }),
        },
      ],
      usageMetadata: usage(i + 1),
      modelVersion: 'gemini-2.5-flash',
    })}\r\n\r\n`;
  return { unary, chunk };
}

async function runUpstream(): Promise<void> {
  const { unary, chunk } = upstreamReply();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!req.url?.includes('streamGenerateContent')) {
        res.writeHead(200, {
          'content-type': 'application/json; charset=UTF-8',
          'content-length': Buffer.byteLength(unary),
        });
        res.end(unary);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const timer = setInterval(() => {
        const last = i === 9;
        res.write(chunk(i, last));
        i += 1;
        if (last) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      res.on('close', () => clearInterval(timer));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  console.log(`listening ${(server.address() as AddressInfo).port}`);
}

async function runGateway(upstreamUrl: string, db: string, withBudget: boolean): Promise<void> {
  const store = createSqliteStore({ path: db });
  const budgets = new BudgetManager({
    store,
    defaultDailyUserLimitUsd: null,
    trackUserSpend: withBudget,
  });
  budgets.setRule({
    id: 'bench',
    scope: { kind: 'tenant', id: 'bench' },
    window: 'day',
    limitUsd: 1_000_000,
    mode: 'hard',
  });
  const proxy = createProxy({
    store,
    ...(withBudget ? { budgets } : {}),
    keys: [{ id: 'bench', hash: hashApiKey(KEY), userId: 'bench-user', tenantId: 'bench' }],
    upstreams: { gemini: { baseUrl: upstreamUrl, apiKey: PROVIDER_KEY } },
  });
  const running = await serveProxy(proxy, { port: 0 });
  console.log(`listening ${running.port}`);
  process.on('SIGTERM', async () => {
    await running.close();
    await proxy.close();
    const { records } = await store.query({ limit: 1 });
    console.error(`[bench proxy] ledger holds records: ${records.length > 0}`);
    await store.close();
    process.exit(0);
  });
}

function startChild(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const found = /listening (\d+)/.exec(out);
      if (found) resolve({ child, port: Number(found[1]) });
    });
    child.on('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request, timed in ms from sending to the last byte. */
function timedRequest(port: number, path: string, withKey: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(BODY),
          'x-goog-api-key': withKey ? KEY : PROVIDER_KEY,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - start) / 1e6);
        });
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux; NaN elsewhere). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** llm-gateway-bench's method: sequential, interleaved, median of the rounds' overheads. */
async function sequentialOverhead(
  upstreamPort: number,
  proxy: { port: number; pid: number | undefined },
  plain: { port: number; pid: number | undefined },
) {
  const proxyPort = proxy.port;
  const plainPort = plain.port;
  for (let i = 0; i < WARMUP; i++) {
    await timedRequest(upstreamPort, PATH, false);
    await timedRequest(proxyPort, PATH, true);
    await timedRequest(plainPort, PATH, true);
  }
  const cpuBefore = [cpuMsOf(proxy.pid), cpuMsOf(plain.pid)];
  const medians: number[] = [];
  const p99s: number[] = [];
  const plainMedians: number[] = [];
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const d: number[] = [];
    const p: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < PER_ROUND; i++) {
      d.push(await timedRequest(upstreamPort, PATH, false));
      p.push(await timedRequest(proxyPort, PATH, true));
      n.push(await timedRequest(plainPort, PATH, true));
    }
    medians.push(median(p) - median(d));
    p99s.push(percentile(p, 99) - percentile(d, 99));
    plainMedians.push(median(n) - median(d));
    direct.push(...d);
    proxied.push(...p);
  }
  const calls = ROUNDS * PER_ROUND;
  const cpuPerCall = (pid: number | undefined, before: number | undefined) =>
    Math.round(((cpuMsOf(pid) - (before as number)) / calls) * 1000);
  return {
    medianOverheadMs: round3(median(medians)),
    p99OverheadMs: round3(median(p99s)),
    withoutBudgetMedianOverheadMs: round3(median(plainMedians)),
    gatewayCpuPerCallUs: cpuPerCall(proxy.pid, cpuBefore[0]),
    withoutBudgetCpuPerCallUs: cpuPerCall(plain.pid, cpuBefore[1]),
    directMedianMs: round3(median(direct)),
    proxiedMedianMs: round3(median(proxied)),
    roundOverheadsMs: medians.map(round3),
  };
}

function load(
  port: number,
  options: { withKey: boolean; connections: number; duration: number; overallRate?: number },
) {
  return autocannon({
    url: `http://127.0.0.1:${port}${PATH}`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-goog-api-key': options.withKey ? KEY : PROVIDER_KEY,
    },
    body: BODY,
    connections: options.connections,
    duration: options.duration,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
}

/** N streams at once through the gateway, each read to its end; how many completed. */
async function concurrentStreams(proxyPort: number, count: number) {
  const streamsAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const started = process.hrtime.bigint();
  const results = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<{ ok: boolean; firstMs: number }>((resolve) => {
          const start = process.hrtime.bigint();
          let firstMs = -1;
          const req = request(
            {
              host: '127.0.0.1',
              port: proxyPort,
              path: STREAM_PATH,
              method: 'POST',
              agent: streamsAgent,
              headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk) => {
                if (firstMs < 0) firstMs = Number(process.hrtime.bigint() - start) / 1e6;
                text += chunk;
              });
              res.on('end', () =>
                resolve({ ok: res.statusCode === 200 && text.includes('"finishReason"'), firstMs }),
              );
              res.on('error', () => resolve({ ok: false, firstMs }));
            },
          );
          req.on('error', () => resolve({ ok: false, firstMs }));
          req.end(BODY);
        }),
    ),
  );
  streamsAgent.destroy();
  const completed = results.filter((r) => r.ok).length;
  return {
    streams: count,
    completed,
    wallMs: round3(Number(process.hrtime.bigint() - started) / 1e6),
    firstChunkMedianMs: round3(median(results.map((r) => r.firstMs))),
    firstChunkP99Ms: round3(
      percentile(
        results.map((r) => r.firstMs),
        99,
      ),
    ),
  };
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** The whole proxy benchmark, in one run. */
export async function runProxyBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-proxy-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = await startChild(['--upstream']);
    children.push(upstream.child);
    const gateway = await startChild([
      '--gateway',
      `http://127.0.0.1:${upstream.port}`,
      join(dir, 'ledger.db'),
    ]);
    children.push(gateway.child);
    // The same gateway without the budget (tracking and the ledger still on): what a reservation costs.
    const plain = await startChild([
      '--gateway',
      `http://127.0.0.1:${upstream.port}`,
      join(dir, 'plain.db'),
      'no-budget',
    ]);
    children.push(plain.child);

    const sequential = await sequentialOverhead(
      upstream.port,
      { port: gateway.port, pid: gateway.child.pid },
      { port: plain.port, pid: plain.child.pid },
    );
    plain.child.kill('SIGTERM');
    agent.destroy();

    await load(gateway.port, { withKey: true, connections: 50, duration: 3 });
    const unary = await load(gateway.port, { withKey: true, connections: 50, duration: 10 });
    const directUnary = await load(upstream.port, {
      withKey: false,
      connections: 50,
      duration: 10,
    });

    const paced = await load(gateway.port, {
      withKey: true,
      connections: 50,
      duration: 10,
      overallRate: 1000,
    });
    const pacedDirect = await load(upstream.port, {
      withKey: false,
      connections: 50,
      duration: 10,
      overallRate: 1000,
    });

    const streams500 = await concurrentStreams(gateway.port, 500);
    const streams1000 = await concurrentStreams(gateway.port, 1000);

    const result = {
      what: 'tollgate proxy: Gemini generateContent against a local mock upstream, tracking on, SQLite ledger, gateway key, a hard tenant budget (reserve + settle per call); upstream, gateway and load generator in separate processes on loopback',
      method: `llm-gateway-bench: ${ROUNDS} rounds of ${PER_ROUND} sequential requests, each proxied request after a direct one (keep-alive), overhead = median(proxied) − median(direct) per round, figure = median of the rounds (${WARMUP} warm-up pairs first)`,
      anchorsMedianOverheadMs: ANCHORS_MS,
      sequential,
      targets: {
        medianOverheadMs: 0.4,
        p99OverheadMs: 1,
        unaryRps: 3000,
        concurrentStreams: 500,
        p99OverheadAt1000RpsMs: 5,
      },
      unary: {
        connections: 50,
        proxiedRps: round3(unary.requests.average),
        directRps: round3(directUnary.requests.average),
        errors: unary.errors + unary.timeouts + unary.non2xx,
      },
      at1000Rps: {
        achievedRps: round3(paced.requests.average),
        proxiedP99Ms: paced.latency.p99,
        directP99Ms: pacedDirect.latency.p99,
        p99OverheadMs: round3(paced.latency.p99 - pacedDirect.latency.p99),
        errors: paced.errors + paced.timeouts + paced.non2xx,
      },
      concurrentStreams: [streams500, streams1000],
    };
    return result;
  } finally {
    for (const child of children) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--upstream') await runUpstream();
  else if (process.argv[2] === '--gateway')
    await runGateway(
      process.argv[3] as string,
      process.argv[4] as string,
      process.argv[5] !== 'no-budget',
    );
  else {
    const result = await runProxyBenchmark();
    console.log(JSON.stringify(result, null, 2));
    console.log(`written to ${writeResult('bench-proxy', result)}`);
  }
}
