/**
 * What node's HTTP parser refuses before any handler runs, over raw sockets on 127.0.0.1:
 * every answer the server can still give is in the documented `{ error: { code, message } }`
 * shape, with a status that says what was wrong.
 */
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

/**
 * Sends raw bytes, half-closes (or not), and returns everything the server sent until it
 * closed the connection.
 */
function raw(text: string | Buffer, options: { halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(running.port, '127.0.0.1', () => {
      if (options.halfClose === false) socket.write(text);
      else socket.end(text);
    });
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Status line and parsed JSON body of a raw answer. */
function parse(answer: string): { status: number; headers: string; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const split = answer.indexOf('\r\n\r\n');
  const headers = answer.slice(0, split).toLowerCase();
  const text = answer.slice(split + 4);
  const length = Number(/content-length: (\d+)/.exec(headers)?.[1]);
  expect(Buffer.byteLength(text)).toBe(length);
  return { status, headers, body: JSON.parse(text) };
}

const shape = (code: string) => ({
  error: { code, message: expect.stringMatching(/\S/) as unknown as string },
});

describe('requests node refuses, answered in the documented shape', () => {
  it.each([
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      501,
      'not_implemented',
      /CONNECT/,
    ],
    [
      'an unknown method',
      'BREW /api/health HTTP/1.1\r\nHost: x\r\n\r\n',
      501,
      'not_implemented',
      /method/,
    ],
    [
      'a Content-Length that is not a number',
      'PUT /api/budgets/x HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
      400,
      'invalid_request',
      /content-length/,
    ],
    [
      'two different Content-Lengths',
      'PUT /api/budgets/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'invalid_request',
      /content-length/,
    ],
    [
      'Content-Length beside chunked encoding',
      'PUT /api/budgets/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'invalid_request',
      /./,
    ],
    [
      'headers over 16 KiB',
      `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      431,
      'request_header_fields_too_large',
      /16 KiB/,
    ],
    [
      'a request line that is not HTTP',
      'GET /api/health HTTX/1.1\r\n\r\n',
      400,
      'invalid_request',
      /malformed HTTP/,
    ],
    [
      'a header line without a colon',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n',
      400,
      'invalid_request',
      /malformed HTTP/,
    ],
    [
      'an HTTP/1.1 request without Host',
      'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n',
      400,
      'invalid_request',
      /host/,
    ],
    [
      'an Expect other than 100-continue',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nConnection: close\r\n\r\n',
      417,
      'expectation_failed',
      /100-continue/,
    ],
  ])('%s', async (_, request, status, code, message) => {
    const answer = parse(await raw(request));
    expect(answer.status).toBe(status);
    expect(answer.headers).toContain('content-type: application/json');
    expect(answer.body).toEqual(shape(code));
    expect((answer.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('a body cut short (the client stops sending) is a JSON 400', async () => {
    const request =
      `PUT /api/budgets/cut HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${f.keys.admin}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"scope":';
    const answer = parse(await raw(request));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(shape('invalid_request'));
    expect(f.budgets.listRules().map((rule) => rule.id)).not.toContain('cut');
  });

  it('a malformed second request on a kept-alive connection is answered after the first', async () => {
    const answer = await raw(
      'GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nBREW /api/health HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const [first, second] = answer.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(parse(second as string).body).toEqual(shape('not_implemented'));
  });

  it('the server keeps serving after each of them', async () => {
    const health = await fetch(`${running.url}/api/health`);
    expect(health.status).toBe(200);
  });
});
