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
