/**
 * The email channel, over SMTP with nodemailer. nodemailer is an optional peer: it is imported
 * on the first send, so `tollgate/alerts` loads without it and a webhook-only setup never needs it.
 * A channel that will need it checks that it is installed as it is created, so a missing peer
 * stops the set-up instead of the first alert.
 */
import { z } from 'zod';
import { peerLoadError, requirePeer } from '../errors.js';
import { alertHeading, type BudgetAlert, formatAlertUsd, scopeLabel } from './alert.js';
import type { AlertChannel } from './channel.js';
import { AlertDeliveryError } from './errors.js';
import { backoffSchema, delayMs, parseOptions, retriesSchema } from './options.js';
import { type BackoffOptions, backoffDelay, resolveBackoff, sleep } from './retry.js';

/** nodemailer SMTP options (see its docs); the common ones are typed, the rest pass through. */
export interface SmtpOptions {
  host?: string;
  port?: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  ignoreTLS?: boolean;
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
  [option: string]: unknown;
}

/** One message, as nodemailer's `sendMail` takes it (the fields this channel sets). */
export interface MailMessage {
  from: string;
  to: string | string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  /**
   * The SMTP envelope, set only to retry the recipients a server refused for now: the others
   * already have the message.
   */
  envelope?: { from: string; to: string[] };
  /** Aborts the attempt at `timeoutMs` (nodemailer ≥ 10.6 closes its connection). */
  signal?: AbortSignal;
}

/** A ready transport: a nodemailer `Transporter` fits. */
export interface MailTransport {
  /** Sends one message (nodemailer's `Transporter.sendMail`). */
  sendMail(message: MailMessage): Promise<unknown>;
  /** Closes the transport's connections, when it has any. */
  close?(): void;
}

/**
 * Options of `emailChannel`: the SMTP transport, the addresses, and the retry policy.
 *
 * @example
 * emailChannel({ transport: 'smtp://mail.internal:25', from: 'tollgate@acme.dev', to: 'finops@acme.dev' });
 */
export interface EmailChannelOptions {
  /** SMTP options or an `smtp://` URL (a transport is made on first send), or a transport. */
  transport: SmtpOptions | string | MailTransport;
  from: string;
  to: string | string[];
  /** Starts every subject (default `[tollgate]`). */
  subjectPrefix?: string;
  /** Retries after the first attempt, for connection errors and SMTP 4xx (default 2). */
  retries?: number;
  backoff?: BackoffOptions;
  /**
   * Per attempt, connection and SMTP dialogue included (default 30,000 ms). nodemailer's own
   * socket timeout is 10 minutes: without this a server that stops answering would hold the
   * dispatcher's `flush()` and `close()` that long, per attempt.
   */
  timeoutMs?: number;
}

const address = z.string().trim().min(3, 'must be an email address').includes('@');

const schema = z
  .object({
    transport: z.union([
      // nodemailer takes any other string for a transport plugin and fails on the first send.
      z
        .string()
        .regex(/^smtps?:\/\/./i, 'must be an smtp:// or smtps:// URL, SMTP options or a transport'),
      z.custom<MailTransport>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          (typeof (value as MailTransport).sendMail === 'function' || !('sendMail' in value)),
        'must be SMTP options, an smtp:// URL or a transport with sendMail()',
      ),
    ]),
    from: z.string().trim().min(1, 'must be a sender address'),
    to: z.union([address, z.array(address).min(1)]),
    subjectPrefix: z.string().optional(),
    retries: retriesSchema,
    backoff: backoffSchema,
    timeoutMs: delayMs().positive().optional(),
  })
  .strict();

/**
 * A channel that emails each alert: plain text plus a small HTML table. The Message-ID derives
 * from the alert id, so a mail server or client can recognise a repeat.
 *
 * @example
 * emailChannel({
 *   transport: { host: 'smtp.example.com', port: 587, auth: { user: 'alerts', pass: process.env.SMTP_PASS! } },
 *   from: 'tollgate <alerts@example.com>',
 *   to: ['ops@example.com'],
 * })
 */
export function emailChannel(options: EmailChannelOptions): AlertChannel {
  const config = parseOptions(schema, options, 'emailChannel');
  const retries = config.retries ?? 2;
  const backoff = resolveBackoff(config.backoff);
  const prefix = config.subjectPrefix ?? '[tollgate]';
  const timeoutMs = config.timeoutMs ?? 30_000;
  const given = isTransport(config.transport) ? config.transport : undefined;
  if (!given) requirePeer(FEATURE, 'nodemailer');
  let made: Promise<MailTransport> | undefined;

  const transport = (): Promise<MailTransport> => {
    if (given) return Promise.resolve(given);
    made ??= createTransport(config.transport as SmtpOptions | string);
    return made;
  };

  return {
    name: 'email',
    async send(alert) {
      const mailer = await transport();
      const message = composeMessage(alert, config.from, config.to, prefix);
      // After a partial delivery only the recipients refused "for now" are retried (an envelope
      // naming just them): resending to everyone would give the others a second copy.
      let envelope: MailMessage['envelope'];
      const refused: Rejection[] = [];
      for (let number = 1; ; number++) {
        const signal = AbortSignal.timeout(timeoutMs);
        let status: number | undefined;
        let reason: string;
        let cause: unknown;
        let transient: boolean;
        try {
          const info = await untilAborted(
            mailer.sendMail({ ...message, ...(envelope ? { envelope } : {}), signal }),
            signal,
          );
          // nodemailer resolves when at least one recipient took the message: the others are
          // only listed in `rejected`, and would be lost without a word.
          const rejections = rejectionsOf(info);
          if (rejections.length === 0 && refused.length === 0) return;
          const deferred = rejections.filter(isDeferred);
          refused.push(...rejections.filter((rejection) => !isDeferred(rejection)));
          const from = (info as { envelope?: { from?: unknown } }).envelope?.from;
          if (deferred.length > 0 && number <= retries && typeof from === 'string') {
            envelope = { from, to: deferred.map((rejection) => rejection.address) };
            await sleep(backoffDelay(number - 1, backoff));
            continue;
          }
          const failed = [...refused, ...deferred];
          throw new AlertDeliveryError({
            channel: 'email',
            alertId: alert.id,
            attempts: number,
            status: failed[0]?.status,
            reason: `not accepted for ${failed.map(describeRejection).join(', ')}`,
          });
        } catch (error) {
          if (AlertDeliveryError.isInstance(error)) throw error;
          cause = error;
          if (signal.aborted) {
            reason = `no answer within ${timeoutMs} ms`;
            status = undefined;
            transient = true;
          } else {
            const code = (error as { responseCode?: unknown }).responseCode;
            status = typeof code === 'number' ? code : undefined;
            reason = error instanceof Error ? error.message : String(error);
            // SMTP 4xx is "try again later"; 5xx is final (bad recipient, refused).
            transient = status === undefined || (status >= 400 && status < 500);
          }
        }
        if (!transient || number > retries) {
          throw new AlertDeliveryError({
            channel: 'email',
            alertId: alert.id,
            attempts: number,
            status,
            reason: refused.length
              ? `${reason}; not accepted for ${refused.map(describeRejection).join(', ')}`
              : reason,
            cause,
          });
        }
        await sleep(backoffDelay(number - 1, backoff));
      }
    },
    async close() {
      // A transport the caller passed in is theirs to close.
      if (made) (await made.catch(() => undefined))?.close?.();
    },
  };
}

/** A recipient the server did not take, with its SMTP reply code when there was one. */
interface Rejection {
  address: string;
  status: number | undefined;
  response: string | undefined;
}

/** The recipients a resolved `sendMail` lists as rejected (nodemailer's `info`). */
function rejectionsOf(info: unknown): Rejection[] {
  const { rejected, rejectedErrors } = (info ?? {}) as {
    rejected?: unknown;
    rejectedErrors?: { recipient?: unknown; responseCode?: unknown; response?: unknown }[];
  };
  if (!Array.isArray(rejected)) return [];
  return rejected.map((address: unknown) => {
    const error = Array.isArray(rejectedErrors)
      ? rejectedErrors.find((e) => e?.recipient === address)
      : undefined;
    return {
      address: String(address),
      status: typeof error?.responseCode === 'number' ? error.responseCode : undefined,
      response: typeof error?.response === 'string' ? error.response : undefined,
    };
  });
}

/** SMTP 4xx: "try again later". */
function isDeferred(rejection: Rejection): boolean {
  return rejection.status !== undefined && rejection.status >= 400 && rejection.status < 500;
}

function describeRejection(rejection: Rejection): string {
  return `${rejection.address} (${rejection.response ?? rejection.status ?? 'refused'})`;
}

/**
 * Settles with `promise`, or rejects when `signal` aborts: a transport that ignores the signal
 * cannot hold the channel (and the dispatcher's flush) past the attempt's timeout.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const FEATURE = 'emailChannel (tollgate/alerts)';

function isTransport(value: unknown): value is MailTransport {
  return typeof (value as MailTransport | undefined)?.sendMail === 'function';
}

async function createTransport(options: SmtpOptions | string): Promise<MailTransport> {
  let module: { createTransport?: unknown; default?: { createTransport?: unknown } };
  try {
    module = await import('nodemailer');
  } catch (cause) {
    throw peerLoadError(FEATURE, 'nodemailer', cause);
  }
  const create = (module.default?.createTransport ?? module.createTransport) as (
    options: SmtpOptions | string,
  ) => MailTransport;
  return create(options);
}

/** Subject, plain text and HTML for one alert. */
export function composeMessage(
  alert: BudgetAlert,
  from: string,
  to: string | string[],
  prefix = '[tollgate]',
): MailMessage {
  const rows: [string, string][] = [
    ['Scope', alert.scope + (alert.sessionId ? ` (${alert.sessionId})` : '')],
    ...(alert.window ? [['Window', alert.window] as [string, string]] : []),
    ['Spent', formatAlertUsd(alert.spentUsd, alert.limitUsd)],
    ['Limit', formatAlertUsd(alert.limitUsd, alert.limitUsd)],
    ['Utilization', `${alert.utilizationPercent.toFixed(1)}%`],
    ['Threshold', `${Math.round(alert.threshold * 1000) / 10}%`],
    ...(alert.ruleId ? [['Rule', alert.ruleId] as [string, string]] : []),
    ...(alert.agent ? [['Agent', alert.agent] as [string, string]] : []),
    ...(alert.model ? [['Model', alert.model] as [string, string]] : []),
    ['At', new Date(alert.timestamp).toISOString()],
    ...(alert.resetsAt
      ? [['Resets', new Date(alert.resetsAt).toISOString()] as [string, string]]
      : []),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const text = `${alert.text}\n\n${rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n')}\n\nAlert id: ${alert.id}\n`;
  const html =
    `<p><strong>${escapeHtml(alert.text)}</strong></p>\n<table>\n` +
    rows
      .map(
        ([label, value]) => `<tr><th align="left">${label}</th><td>${escapeHtml(value)}</td></tr>`,
      )
      .join('\n') +
    `\n</table>\n<p style="color:#888">Alert id: ${alert.id}</p>\n`;
  const kind = alertHeading(alert.kind);
  const subject = `${prefix ? `${prefix} ` : ''}${kind}: ${alert.utilizationPercent.toFixed(1)}% of ${formatAlertUsd(alert.limitUsd, alert.limitUsd)} for ${scopeLabel(alert)}${alert.window ? ` (${alert.window})` : ''}`;
  return {
    from,
    to,
    subject,
    text,
    html,
    messageId: `<${alert.id}@tollgate.alerts>`,
    headers: { 'X-Tollgate-Alert-Id': alert.id },
  };
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
