/**
 * Upstream failures and clients that leave: each answered as the provider would answer it (or
 * cut as the upstream cut it), the reservation released or settled with what was used, and the
 * gateway still serving afterwards.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/keep/memory.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import { type Gateway, ledger, startGateway } from './support.js';

let gateway: Gateway | undefined;
let upstream: Server | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  if (upstream) {
    upstream.closeAllConnections();
    await new Promise((done) => upstream?.close(done));
    upstream = undefined;
  }
});

const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
const UNARY = '/v1beta/models/gemini-2.5-flash:generateContent';
const BODY = JSON.stringify({
  contents: [{ role: 'user', parts: [{ text: 'Tell me a long story.' }] }],
  generationConfig: { maxOutputTokens: 500 },
});

/** A hand-written upstream for failures the stand-in does not script. */
async function rawUpstream(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((done) => upstream?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
}

function chunk(text: string, usage: { prompt: number; out: number }, finish = false): string {
  return `data: ${JSON.stringify({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, ...(finish && { finishReason: 'STOP' }) },
    ],
    usageMetadata: {
      promptTokenCount: usage.prompt,
      candidatesTokenCount: usage.out,
      totalTokenCount: usage.prompt + usage.out,
    },
    modelVersion: 'gemini-2.5-flash',
  })}\r\n\r\n`;
}

function budgetsOf() {
  return new BudgetManager({ store: new MemoryStore(), defaultDailyUserLimitUsd: 1 });
}

async function held(budgets: BudgetManager) {
  const { today } = await budgets.getUserStats('alice');
  const [counter] = (await budgets.store.counters?.([today.key], Date.now())) ?? [];
  return counter ?? { settledFemto: 0n, reservedFemto: 0n };
}

function post(g: Gateway, path: string, signal?: AbortSignal) {
  return fetch(`${g.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': g.key },
    body: BODY,
    ...(signal ? { signal } : {}),
  });
}

/** Waits until the gateway has finished (recorded or released) every call. */
async function settled(g: Gateway) {
  for (let i = 0; i < 500 && g.proxy.stats().inFlight > 0; i++) {
    await new Promise((done) => setTimeout(done, 10));
  }
  expect(g.proxy.stats().inFlight).toBe(0);
  // The settlement runs right after the last chunk: give it its turn.
  await new Promise((done) => setTimeout(done, 20));
}

// Every failure, through either upstream client (undici's pools, node:http).
describe.each(['undici', 'http'] as const)('with the %s upstream client', (client) => {
  const start = (options: Parameters<typeof startGateway>[0] = {}) =>
    startGateway({ ...options, proxy: { upstreamClient: client, ...options.proxy } });

  describe('upstream failures', () => {
    it('a refused connection is a 502 in the Gemini shape, released', async () => {
      const budgets = budgetsOf();
      const url = await rawUpstream(() => undefined);
      upstream?.close();
      upstream?.closeAllConnections();
      upstream = undefined;
      gateway = await start({
        proxy: { budgets, upstreams: { gemini: { baseUrl: url, apiKey: 'k' } } },
      });
      const res = await post(gateway, UNARY);
      expect(res.status).toBe(502);
      const answer = (await res.json()) as { error: { status: string; message: string } };
      expect(answer.error.status).toBe('UNAVAILABLE');
      expect(answer.error.message).toMatch(/ECONNREFUSED/);
      expect((await held(budgets)).reservedFemto).toBe(0n);
    });

    it('an upstream that never answers is a 504 after upstreamTimeoutMs, released', async () => {
      const budgets = budgetsOf();
      const url = await rawUpstream(() => undefined); // accepts, never answers
      gateway = await start({
        proxy: {
          budgets,
          upstreamTimeoutMs: 100,
          upstreams: { gemini: { baseUrl: url, apiKey: 'k' } },
        },
      });
      const res = await post(gateway, UNARY);
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { status: string } }).error.status).toBe(
        'DEADLINE_EXCEEDED',
      );
      expect((await held(budgets)).reservedFemto).toBe(0n);
      expect(await ledger(gateway)).toHaveLength(0);
    });

    it('a stream that stalls midway is cut after idleTimeoutMs; the usage seen is recorded', async () => {
      const budgets = budgetsOf();
      const url = await rawUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('Once upon', { prompt: 12, out: 3 }));
        // …and nothing more, connection held open.
      });
      gateway = await start({
        proxy: {
          budgets,
          idleTimeoutMs: 100,
          upstreams: { gemini: { baseUrl: url, apiKey: 'k' } },
        },
      });
      const res = await post(gateway, STREAM);
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
      await settled(gateway);
      const [record] = await ledger(gateway);
      expect(record).toMatchObject({ inputTokens: 12, outputTokens: 3 });
      expect(record?.metadata).toMatchObject({ streamed: true, complete: false });
      const counter = await held(budgets);
      expect(counter.reservedFemto).toBe(0n);
      expect(counter.settledFemto).toBe(record?.costFemto);
    });

    it('a reset mid-stream reaches the client as a cut; the usage seen is recorded', async () => {
      const budgets = budgetsOf();
      gateway = await start({ proxy: { budgets }, standIn: { streamChunks: 6 } });
      gateway.standIn.failNext({ afterChunks: 2 });
      const ai = new GoogleGenAI({ apiKey: gateway.key, httpOptions: { baseUrl: gateway.url } });
      let seen = 0;
      await expect(
        (async () => {
          for await (const _ of await ai.models.generateContentStream({
            model: 'gemini-2.5-flash',
            contents: 'Tell me a long story.',
          })) {
            seen += 1;
          }
        })(),
      ).rejects.toThrow();
      expect(seen).toBeLessThanOrEqual(2);
      await settled(gateway);
      const [record] = await ledger(gateway);
      expect(record?.metadata).toMatchObject({ complete: false });
      expect(record?.inputTokens).toBeGreaterThan(0);
      expect((await held(budgets)).reservedFemto).toBe(0n);
      // Still serving.
      const reply = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
      expect(reply.text).toBeTruthy();
    });

    it('a unary body cut short is a cut for the client; released; still serving', async () => {
      const budgets = budgetsOf();
      let calls = 0;
      const url = await rawUpstream((_req, res) => {
        calls += 1;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"candidates": [{"content": {"parts": [{"text": "Half');
        // Once the head and half the body are on the wire.
        setTimeout(() => res.destroy(), 30);
      });
      gateway = await start({
        proxy: { budgets, upstreams: { gemini: { baseUrl: url, apiKey: 'k' } } },
      });
      // The answer is sent whole once read: the client sees the connection close, no answer.
      await expect(post(gateway, UNARY).then((res) => res.text())).rejects.toThrow();
      await settled(gateway);
      expect(await ledger(gateway)).toHaveLength(0);
      expect((await held(budgets)).reservedFemto).toBe(0n);
      await expect(post(gateway, UNARY).then((r) => r.text())).rejects.toThrow();
      expect(calls).toBe(2);
    });

    it('garbage SSE passes through byte for byte; valid chunks among it are still counted', async () => {
      const garbage =
        'data: {not json\n\n' +
        ': a comment\n\n' +
        'event: weird\ndata: [1,2\n\n' +
        '\u0000\u00ff binary-ish line without a field\n\n' +
        chunk('Hello', { prompt: 7, out: 2 }) +
        'data: {"usageMetadata": "a string, not an object"}\n\n' +
        chunk(' world', { prompt: 7, out: 5 }, true) +
        'data: trailing garbage without a blank line';
      const url = await rawUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // In small, odd pieces: events cut at every boundary.
        const bytes = Buffer.from(garbage);
        for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7));
        res.end();
      });
      gateway = await start({
        proxy: { upstreams: { gemini: { baseUrl: url, apiKey: 'k' } } },
      });
      const res = await post(gateway, STREAM);
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(garbage))).toBe(true);
      await settled(gateway);
      const [record] = await ledger(gateway);
      expect(record).toMatchObject({ inputTokens: 7, outputTokens: 5 });
      expect(record?.metadata).toMatchObject({ complete: true });
    });

    it('a stream of nothing but garbage records nothing and settles the estimate', async () => {
      const budgets = budgetsOf();
      const url = await rawUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: ]]]\n\ndata: {"candidates": null}\n\n');
      });
      gateway = await start({
        proxy: { budgets, upstreams: { gemini: { baseUrl: url, apiKey: 'k' } } },
      });
      const res = await post(gateway, STREAM);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await settled(gateway);
      expect(await ledger(gateway)).toHaveLength(0);
      const counter = await held(budgets);
      expect(counter.reservedFemto).toBe(0n);
      // The answer ended normally without usage: billed all the same, so the estimate stands.
      expect(counter.settledFemto).toBeGreaterThan(0n);
    });
  });

  describe('clients that leave', () => {
    it('a client that disconnects mid-stream aborts the upstream; the usage seen is recorded', async () => {
      const budgets = budgetsOf();
      let upstreamClosed = false;
      const url = await rawUpstream((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          n += 1;
          res.write(chunk(`word ${n} `, { prompt: 9, out: n }));
        }, 10);
        res.on('close', () => {
          upstreamClosed = true;
          clearInterval(timer);
        });
      });
      gateway = await start({
        proxy: { budgets, upstreams: { gemini: { baseUrl: url, apiKey: 'k' } } },
      });
      const controller = new AbortController();
      const res = await post(gateway, STREAM, controller.signal);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes('word 3'))
        text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      await settled(gateway);
      for (let i = 0; i < 200 && !upstreamClosed; i++) await new Promise((d) => setTimeout(d, 10));
      expect(upstreamClosed).toBe(true);
      const [record] = await ledger(gateway);
      expect(record?.metadata).toMatchObject({ streamed: true, complete: false });
      expect(record?.outputTokens).toBeGreaterThanOrEqual(3);
      const counter = await held(budgets);
      expect(counter.reservedFemto).toBe(0n);
      expect(counter.settledFemto).toBe(record?.costFemto);
    });
  });
});
