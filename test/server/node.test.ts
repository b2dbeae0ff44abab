/** The real Node adapter on 127.0.0.1: requests, bodies, errors and shutdown over the wire. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, serve } from '../../src/server/index.js';
import { type Fixture, fixture } from './support.js';

let f: Fixture;
let running: RunningServer;

beforeAll(async () => {
  f = await fixture();
  running = await serve(f.handler, { port: 0 });
});

afterAll(async () => {
  await running.close();
});

/** Sends raw bytes and returns the raw answer. */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(running.port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('serve()', () => {
  it('listens on loopback by default', () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers GETs with the handler, JSON and status intact', async () => {
    const health = await fetch(`${running.url}/api/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/application\/json/);
    const summary = await fetch(`${running.url}/api/usage/summary?days=30`, {
      headers: { authorization: `Bearer ${f.keys.viewer}` },
    });
    const body = (await summary.json()) as { totals: { costUsdExact: string } };
    expect(body.totals.costUsdExact).toBe('0.116');
    const missing = await fetch(`${running.url}/nope`, {
      headers: { authorization: `Bearer ${f.keys.viewer}` },
    });
    expect(missing.status).toBe(404);
  });

  it('streams request bodies through (PUT) and sends 204 and 405 headers', async () => {
    const url = `${running.url}/api/budgets/over-the-wire`;
    const headers = { authorization: `Bearer ${f.keys.admin}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      scope: { kind: 'global' },
      window: 'day',
      limitUsd: 7,
      mode: 'soft',
    });
    const put = await fetch(url, { method: 'PUT', headers, body });
    expect(put.status).toBe(201);
    expect(f.budgets.listRules().map((r) => r.id)).toContain('over-the-wire');
    const removed = await fetch(url, { method: 'DELETE', headers });
    expect(removed.status).toBe(204);
    const wrong = await fetch(url, { method: 'POST', headers, body });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('PUT, DELETE');
  });

  it('refuses an oversized body without reading it all', async () => {
    const res = await fetch(`${running.url}/api/budgets/big`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${f.keys.admin}`, 'content-type': 'application/json' },
      body: 'x'.repeat(200_000),
    });
    expect(res.status).toBe(413);
  });

  it('a large body answered before it was read leaves the connection usable', async () => {
    const body = 'x'.repeat(200_000);
    const answers = await raw(
      `PUT /api/budgets/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    // Before, the unread rest of the body blocked the connection until it timed out: no 200.
    expect(answers.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 401', 'HTTP/1.1 200']);
  });

  it('an absolute-form request target is a 400; the Host header never picks the origin', async () => {
    const absolute = await raw(
      'GET http://evil.test/api/health HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    );
    expect(absolute).toMatch(/^HTTP\/1\.1 400/);
    const hosted = await raw(
      'GET /api/health HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    );
    expect(hosted).toMatch(/^HTTP\/1\.1 200/);
  });

  it('answers HEAD like GET, without the body', async () => {
    const head = await fetch(`${running.url}/api/usage/summary?days=7`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${f.keys.viewer}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/application\/json/);
    expect(await head.text()).toBe('');
    const unauthorized = await fetch(`${running.url}/api/usage/summary`, { method: 'HEAD' });
    expect(unauthorized.status).toBe(401);
    const put = await fetch(`${running.url}/api/budgets/b1`, { method: 'HEAD' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('PUT, DELETE');
  });

  it('a method fetch cannot carry (TRACE) is a 501 naming it, not a bad URL', async () => {
    const answer = await raw('TRACE /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 501/);
    expect(answer).toContain('"code":"not_implemented"');
    expect(answer).toContain('TRACE is not supported by this server');
  });

  it('a body cut short by the client is a 400, not a failure reported to onError', async () => {
    const reported: unknown[] = [];
    const g = await fixture({ onError: (error) => reported.push(error) });
    let answered!: (status: number) => void;
    const status = new Promise<number>((resolve) => {
      answered = resolve;
    });
    const other = await serve(
      async (request) => {
        const response = await g.handler(request);
        answered(response.status);
        return response;
      },
      { port: 0 },
    );
    try {
      const socket = connect(other.port, '127.0.0.1', () => {
        socket.write(
          `PUT /api/budgets/cut HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.keys.admin}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"scope":',
          () => socket.destroy(),
        );
      });
      socket.on('error', () => undefined);
      expect(await status).toBe(400);
      expect(reported).toEqual([]);
      expect(g.budgets.listRules().map((rule) => rule.id)).not.toContain('cut');
    } finally {
      await other.close();
    }
  });

  it('lets go of an answer whose client left before it was ready (its body is cancelled)', async () => {
    let serverSawClose!: () => void;
    const clientGone = new Promise<void>((resolve) => {
      serverSawClose = resolve;
    });
    let cancelled!: () => void;
    const bodyCancelled = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const other = await serve(
      async () => {
        await clientGone;
        const body = new ReadableStream<Uint8Array>({
          pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
          cancel: () => cancelled(),
        });
        return new Response(body);
      },
      { port: 0 },
    );
    other.server.on('connection', (socket) => socket.on('close', () => serverSawClose()));
    try {
      const socket = connect(other.port, '127.0.0.1', () =>
        socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', () => socket.destroy()),
      );
      socket.on('error', () => undefined);
      // Before the fix the adapter waited for a 'drain' that never comes, holding the body.
      await bodyCancelled;
    } finally {
      await other.close();
    }
  });

  it('close() stops it, keep-alive connections included', async () => {
    const other = await serve(f.handler, { port: 0 });
    const agentResponse = await fetch(`${other.url}/api/health`);
    expect(agentResponse.status).toBe(200);
    await other.close();
    await expect(fetch(`${other.url}/api/health`)).rejects.toThrow();
  });

  it('rejects a bad port at once', async () => {
    await expect(serve(f.handler, { port: 70_000 })).rejects.toThrow(/port must be an integer/);
  });
});
