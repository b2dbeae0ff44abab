import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlertDeliveryError,
  composeMessage,
  createBudgetAlert,
  emailChannel,
} from '../../src/alerts/index.js';
import { ConfigurationError } from '../../src/index.js';
import { type SmtpSink, startSmtpSink } from './support.js';

const alert = createBudgetAlert({
  threshold: 1,
  spentUsd: 5.2,
  limitUsd: 5,
  scope: 'tenant:acme',
  window: 'month',
  ruleId: 'acme-monthly',
  timestamp: Date.parse('2026-11-23T10:00:00Z'),
  resetsAt: Date.parse('2026-11-30T23:00:00Z'),
});
const quick = { initialMs: 20, maxMs: 100, jitter: false } as const;
const smtp = (port: number) => ({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function sink(): Promise<SmtpSink> {
  const started = await startSmtpSink();
  cleanups.push(started.close);
  return started;
}

/** An SMTP server that refuses recipients with `code` the first `times` times. */
async function refusingServer(code: number, times: number) {
  let refusals = 0;
  let delivered = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refusals >= times) return callback();
      refusals += 1;
      callback(Object.assign(new Error(`refused ${refusals}`), { responseCode: code }));
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        delivered += 1;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    port: (server.server.address() as AddressInfo).port,
    refusals: () => refusals,
    delivered: () => delivered,
  };
}

/** An SMTP server that refuses recipients as `reply(address, n)` says (n: that address's try). */
async function pickyServer(reply: (address: string, n: number) => number | undefined) {
  const tries = new Map<string, number>();
  const deliveries: string[][] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const n = (tries.get(address.address) ?? 0) + 1;
      tries.set(address.address, n);
      const code = reply(address.address, n);
      if (code === undefined) return callback();
      callback(Object.assign(new Error(`no ${address.address}`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        deliveries.push(session.envelope.rcptTo.map((rcpt) => rcpt.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, deliveries };
}

describe('emailChannel', () => {
  it('sends a plain-text and HTML email over SMTP', async () => {
    const { port, messages } = await sink();
    const channel = emailChannel({
      transport: smtp(port),
      from: 'tollgate <alerts@example.com>',
      to: ['ops@example.com', 'finance@example.com'],
    });
    cleanups.push(() => channel.close?.() ?? Promise.resolve());
    await channel.send(alert);
    expect(messages).toHaveLength(1);
    const [mail] = messages;
    expect(mail?.from).toBe('alerts@example.com');
    expect(mail?.to).toEqual(['ops@example.com', 'finance@example.com']);
    expect(mail?.subject).toBe(
      '[tollgate] Budget exceeded: 104.0% of $5.00 for tenant:acme (month)',
    );
    expect(mail?.headers['message-id']).toBe(`<${alert.id}@tollgate.alerts>`);
    expect(mail?.headers['x-tollgate-alert-id']).toBe(alert.id);
    expect(mail?.text.replace(/\r\n/g, '\n')).toBe(
      [
        'Budget exceeded: $5.20 / $5.00 (104.0%) for tenant:acme (month)',
        '',
        'Scope:       tenant:acme',
        'Window:      month',
        'Spent:       $5.20',
        'Limit:       $5.00',
        'Utilization: 104.0%',
        'Threshold:   100%',
        'Rule:        acme-monthly',
        'At:          2026-11-23T10:00:00.000Z',
        'Resets:      2026-11-30T23:00:00.000Z',
        '',
        `Alert id: ${alert.id}`,
        '',
      ].join('\n'),
    );
    expect(mail?.html).toContain(
      '<p><strong>Budget exceeded: $5.20 / $5.00 (104.0%) for tenant:acme (month)</strong></p>',
    );
    expect(mail?.html).toContain('<tr><th align="left">Spent</th><td>$5.20</td></tr>');
  });

  it('uses a nodemailer Transporter it is given, and leaves it open', async () => {
    const { port, messages } = await sink();
    const transporter = nodemailer.createTransport(smtp(port));
    cleanups.push(async () => transporter.close());
    const channel = emailChannel({
      transport: transporter,
      from: 'alerts@example.com',
      to: 'ops@example.com',
      subjectPrefix: '',
    });
    await channel.send(alert);
    await channel.close?.();
    await channel.send({ ...alert, id: 'second' });
    expect(messages.map((m) => m.subject)).toEqual([
      'Budget exceeded: 104.0% of $5.00 for tenant:acme (month)',
      'Budget exceeded: 104.0% of $5.00 for tenant:acme (month)',
    ]);
  });

  it('accepts an smtp:// URL', async () => {
    const { port, messages } = await sink();
    const channel = emailChannel({
      transport: `smtp://127.0.0.1:${port}/?ignoreTLS=true`,
      from: 'alerts@example.com',
      to: 'ops@example.com',
    });
    await channel.send(alert);
    await channel.close?.();
    expect(messages).toHaveLength(1);
  });

  it('retries an SMTP 4xx (try again later), then delivers', async () => {
    const server = await refusingServer(451, 2);
    const channel = emailChannel({
      transport: smtp(server.port),
      from: 'alerts@example.com',
      to: 'ops@example.com',
      backoff: quick,
    });
    await channel.send(alert);
    await channel.close?.();
    expect(server.refusals()).toBe(2);
    expect(server.delivered()).toBe(1);
  });

  it('does not retry an SMTP 5xx', async () => {
    const server = await refusingServer(550, 10);
    const channel = emailChannel({
      transport: smtp(server.port),
      from: 'alerts@example.com',
      to: 'nobody@example.com',
      backoff: quick,
    });
    const error = await channel.send(alert).catch((e: unknown) => e);
    await channel.close?.();
    expect(AlertDeliveryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ channel: 'email', status: 550, attempts: 1 });
    expect(server.refusals()).toBe(1);
  });

  it('retries a refused connection `retries` times', async () => {
    const closed = await startSmtpSink();
    await closed.close();
    const channel = emailChannel({
      transport: { ...smtp(closed.port), connectionTimeout: 1_000 },
      from: 'alerts@example.com',
      to: 'ops@example.com',
      retries: 1,
      backoff: quick,
    });
    const error = await channel.send(alert).catch((e: unknown) => e);
    expect(error).toMatchObject({ channel: 'email', attempts: 2 });
    expect(String(error)).toMatch(/ECONNREFUSED|connect/i);
  });

  it('reports recipients a server refused while it accepted others', async () => {
    const server = await pickyServer((address) => (address.startsWith('gone') ? 550 : undefined));
    const channel = emailChannel({
      transport: smtp(server.port),
      from: 'alerts@example.com',
      to: ['ops@example.com', 'gone@example.com'],
      backoff: quick,
    });
    const error = await channel.send(alert).catch((e: unknown) => e);
    await channel.close?.();
    // ops has it, once; gone never will, and that must reach onError, not vanish.
    expect(server.deliveries).toEqual([['ops@example.com']]);
    expect(AlertDeliveryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ channel: 'email', status: 550, attempts: 1 });
    expect(String(error)).toMatch(/not accepted for gone@example\.com \(550 /);
  });

  it('retries only the recipients deferred with a 4xx, so no one gets two copies', async () => {
    const server = await pickyServer((address, n) =>
      address.startsWith('later') && n === 1 ? 451 : undefined,
    );
    const channel = emailChannel({
      transport: smtp(server.port),
      from: 'tollgate <alerts@example.com>',
      to: ['ops@example.com', 'later@example.com'],
      backoff: quick,
    });
    await channel.send(alert);
    await channel.close?.();
    expect(server.deliveries).toEqual([['ops@example.com'], ['later@example.com']]);
  });

  it('times out an SMTP server that stops answering, and retries it', async () => {
    const sockets: Socket[] = [];
    let connections = 0;
    const server = createNetServer((socket) => {
      connections += 1;
      sockets.push(socket);
      socket.on('error', () => {});
      socket.write('220 mail.test ESMTP\r\n'); // then silence, whatever the client says
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const channel = emailChannel({
      transport: smtp((server.address() as AddressInfo).port),
      from: 'alerts@example.com',
      to: 'ops@example.com',
      retries: 1,
      timeoutMs: 200,
      backoff: quick,
    });
    const error = await channel.send(alert).catch((e: unknown) => e);
    await channel.close?.();
    expect(AlertDeliveryError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ channel: 'email', attempts: 2, status: undefined });
    expect(String(error)).toMatch(/after 2 attempt\(s\): no answer within 200 ms$/);
    expect(connections).toBe(2);
  });

  it('escapes HTML', () => {
    const hostile = createBudgetAlert({
      threshold: 0.5,
      spentUsd: 1,
      limitUsd: 2,
      scope: 'user:<script>alert(1)</script>',
    });
    const { html, text } = composeMessage(hostile, 'a@b.c', 'd@e.f');
    expect(html).not.toContain('<script>');
    expect(html).toContain('user:&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('user:<script>alert(1)</script>');
  });

  it.each([
    [{ from: 'a@b.c', to: 'd@e.f' }, /transport: /],
    [{ transport: {}, to: 'd@e.f' }, /from: /],
    [{ transport: {}, from: 'a@b.c', to: 'nobody' }, /to: /],
    [{ transport: {}, from: 'a@b.c', to: [] }, /to: /],
    [{ transport: { sendMail: 'no' }, from: 'a@b.c', to: 'd@e.f' }, /transport: /],
    [{ transport: {}, from: 'a@b.c', to: 'd@e.f', retries: 1.5 }, /retries: /],
    [
      { transport: 'mail.example.com', from: 'a@b.c', to: 'd@e.f' },
      /transport: must be an smtp:\/\/ or smtps:\/\/ URL/,
    ],
    [{ transport: {}, from: 'a@b.c', to: 'd@e.f', timeoutMs: 0 }, /timeoutMs: /],
    [
      { transport: {}, from: 'a@b.c', to: 'd@e.f', timeoutMs: 2 ** 31 },
      /timeoutMs: must be at most/,
    ],
  ])('validates its options: %o', (options, message) => {
    expect(() => emailChannel(options as never)).toThrow(ConfigurationError);
    expect(() => emailChannel(options as never)).toThrow(message);
  });
});
