/** Real local sinks for alert tests: an HTTP server and an SMTP server, on loopback only. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  raw: Buffer;
  body: string;
  at: number;
}

/**
 * What the sink answers to request number `n` (1-based); 'hang' never answers; `endless` sends
 * the status, headers and `body`, then keeps the body open forever.
 */
export type SinkReply =
  | { status: number; headers?: Record<string, string>; body?: string; endless?: boolean }
  | 'hang'
  | 'reset';

export interface WebhookSink {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that records every request and answers as `reply` says. */
export async function startWebhookSink(
  reply: (n: number, request: ReceivedRequest) => SinkReply = () => ({ status: 200 }),
): Promise<WebhookSink> {
  const requests: ReceivedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const request: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw.toString('utf8'),
        at: Date.now(),
      };
      requests.push(request);
      const answer = reply(requests.length, request);
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      if (answer.endless) {
        res.writeHead(answer.status, answer.headers).write(answer.body ?? '');
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/budget`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  /** Header names in lower case, folded lines joined. */
  headers: Record<string, string>;
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpSink {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** An SMTP server (smtp-server) on 127.0.0.1: no TLS, no auth required; parses what arrives. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        messages.push({
          ...parseMail(raw),
          from: from ? from.address : undefined,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A small MIME reader: headers, and the text/plain and text/html parts (QP or base64). */
export function parseMail(raw: string): Omit<ReceivedMail, 'from' | 'to'> {
  const { headers, body } = splitHeaders(raw);
  const parts: { headers: Record<string, string>; body: string }[] = [];
  collectParts(headers, body, parts);
  const part = (type: string) => parts.find((p) => p.headers['content-type']?.startsWith(type));
  const decoded = (p: { headers: Record<string, string>; body: string } | undefined) =>
    p ? decodeBody(p.body, p.headers['content-transfer-encoding']) : '';
  return {
    headers,
    subject: headers.subject ?? '',
    text: decoded(part('text/plain')),
    html: decoded(part('text/html')),
    raw,
  };
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? '' : raw.slice(end + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function collectParts(
  headers: Record<string, string>,
  body: string,
  out: { headers: Record<string, string>; body: string }[],
): void {
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!headers['content-type']?.startsWith('multipart/') || !boundary) {
    out.push({ headers, body });
    return;
  }
  const sections = body.split(`--${boundary}`).slice(1);
  for (const section of sections) {
    if (section.startsWith('--')) break;
    const part = splitHeaders(section.replace(/^\r\n/, ''));
    collectParts(part.headers, part.body.replace(/\r\n$/, ''), out);
  }
}

function decodeBody(body: string, encoding: string | undefined): string {
  const kind = encoding?.toLowerCase();
  if (kind === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (kind === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Polls until `check()` holds (or fails the test after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
