/**
 * Validation at the boundary: every query parameter, path parameter and body goes through zod
 * once, here, and a failure becomes a 400 whose message names the field. Routes then trust
 * their types.
 */
import { z } from 'zod';
import { describe } from '../errors.js';
import { badRequest, HttpError } from './errors.js';

/** Largest request body accepted (a budget rule is a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

/** `<field>: <problem>` for the first issue, the field as a dotted path. */
export function firstIssue(error: z.ZodError, root: string): { field: string; problem: string } {
  const issue = error.issues[0];
  if (!issue) return { field: root, problem: 'is invalid' };
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '?';
    return { field: path ? `${path}.${key}` : key, problem: 'unknown field' };
  }
  return { field: path || root, problem: issue.message };
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, root: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { field, problem } = firstIssue(parsed.error, root);
  throw badRequest(field, problem, parsed.error);
}

/**
 * Parses a URL's query string against a strict schema of string parameters: an unknown or
 * repeated parameter is a 400, like a wrong value.
 */
export function parseQuery<T>(schema: z.ZodType<T>, url: URL): T {
  const values = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (values.has(key)) throw badRequest(key, 'given more than once');
    values.set(key, value);
  }
  // fromEntries makes own properties, so even `__proto__=` is just an unknown parameter.
  return parseWith(schema, Object.fromEntries(values), 'query');
}

/** Decodes and validates one path parameter (`%zz` is a 400, not a crash). */
export function parseParam(name: string, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch (cause) {
    throw badRequest(name, 'malformed percent-encoding', cause);
  }
  return parseWith(idString, value, name);
}

/** Reads a JSON body of at most `MAX_BODY_BYTES` and validates it. */
export async function parseBody<T>(schema: z.ZodType<T>, request: Request): Promise<T> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'body: send JSON (content-type: application/json)',
    );
  }
  const text = await readText(request, MAX_BODY_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw badRequest('body', 'is not valid JSON', cause);
  }
  return parseWith(schema, value, 'body');
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, 'payload_too_large', `body: larger than ${maxBytes} bytes`);
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await readChunk(reader);
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * The next chunk of a body. The stream fails when the client goes away mid-body (node's
 * `aborted`): the request is incomplete, which is the client's doing, not a server failure to
 * report as a 500.
 */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>) {
  try {
    return await reader.read();
  } catch (cause) {
    throw badRequest('body', 'the request ended before the body was complete', cause);
  }
}

// ── building blocks ────────────────────────────────────────────────────────

/** An id in a path or a body: user, thread, budget, model… */
export const idString = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

/** A whole number written in a query string, within [min, max]. */
export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const NOT_A_ZONE = 'is not an IANA time zone (e.g. "Europe/Berlin")';

/** An IANA time zone the runtime knows, as given: a rule keeps its spelling. */
export const timeZone = z
  .string()
  .max(64, 'must be at most 64 characters')
  // Checked through the canonical-name table, not assertTimeZone: that caches a formatter per
  // spelling, and an admin trying `eUrOpE/bErLiN` spellings would grow it for good.
  .refine((zone) => canonicalZone(zone) !== undefined, { message: NOT_A_ZONE });

/**
 * A query's time zone, in the runtime's canonical spelling (`europe/BERLIN` → `Europe/Berlin`).
 * Zones are case-insensitive, and the formatter caches, rollup series and cached answers below
 * are keyed by the zone's name: passed on as typed, every spelling a caller tried would stay
 * in memory for good (tens of kilobytes each).
 */
export const queryTimeZone = z
  .string()
  .max(64, 'must be at most 64 characters')
  .transform((zone, ctx) => {
    const canonical = canonicalZone(zone);
    if (canonical !== undefined) return canonical;
    ctx.addIssue({ code: 'custom', message: NOT_A_ZONE });
    return z.NEVER;
  });

/** Canonical zone names by ASCII-lower-cased spelling: at most one entry per zone that exists. */
const canonicalZones = new Map<string, string>();

function canonicalZone(zone: string): string | undefined {
  // Only ASCII is folded: toLowerCase would also fold look-alikes (the Kelvin sign to "k").
  const key = zone.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  let canonical = canonicalZones.get(key);
  if (canonical === undefined) {
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      return undefined;
    }
    canonicalZones.set(key, canonical);
  }
  return canonical;
}

/**
 * `days`: the window [now − days, now), at most `maxDays` (the server's `limits.maxDays`): a
 * range is work, and the longest one a caller may ask for is the server's to say.
 */
export const days = (fallback: number, maxDays: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, 'must be at least 1')
        .max(maxDays, `must be at most ${maxDays} (the longest range this server answers)`),
    )
    .default(Math.min(fallback, maxDays));

/** The usage endpoints' query schemas for a server answering at most `maxDays`. */
export function usageQueries(maxDays: number) {
  const range = (fallbackDays: number) =>
    z.strictObject({
      days: days(fallbackDays, maxDays),
      tz: queryTimeZone.default('UTC'),
      tenant: idString.optional(),
    });
  return {
    /** Aggregates over 30 days by default (by model, by agent, per user). */
    range: range(30),
    summary: z.strictObject({
      days: days(30, maxDays),
      tz: queryTimeZone.default('UTC'),
      tenant: idString.optional(),
      top: intParam(1, 100).default(10),
    }),
    records: z.strictObject({
      days: days(7, maxDays),
      limit: intParam(1, 1000).default(100),
      cursor: z.string().min(1).max(512, 'must be at most 512 characters').optional(),
      order: z.enum(['asc', 'desc'], 'must be "asc" or "desc"').default('desc'),
      tenant: idString.optional(),
      userId: idString.optional(),
      threadId: idString.optional(),
      agent: idString.optional(),
      model: idString.optional(),
    }),
  };
}

export type UsageQueries = ReturnType<typeof usageQueries>;

export const threadQuery = z.strictObject({
  limit: intParam(1, 1000).default(100),
  cursor: z.string().min(1).max(512, 'must be at most 512 characters').optional(),
  tenant: idString.optional(),
});

export const noQuery = z.strictObject({});

// ── bodies ─────────────────────────────────────────────────────────────────

const usd = z
  .number('must be a number')
  .finite('must be finite')
  .positive('must be greater than 0')
  .max(1e9, 'must be at most 1,000,000,000');

/** A budget rule as PUT to /api/budgets/:id (the id comes from the path). */
export const budgetBody = z
  .strictObject({
    id: idString.optional(),
    scope: z.strictObject({
      kind: z.enum(['user', 'tenant', 'model', 'provider', 'agent', 'global']),
      id: idString.optional(),
    }),
    window: z.enum(['request', 'hour', 'day', 'week', 'month']),
    limitUsd: usd,
    mode: z.enum(['soft', 'hard', 'adaptive']),
    alertAt: z
      .array(z.number().gt(0, 'must be above 0').lte(1, 'must be at most 1'))
      .max(20, 'at most 20 thresholds')
      .optional(),
    timeZone: timeZone.optional(),
    adaptive: z
      .strictObject({
        fallbackModel: idString.optional(),
        lowBudgetFraction: z.number().gt(0, 'must be above 0').lt(1, 'must be below 1').optional(),
        minMaxOutputTokens: z.number().int().positive().max(10_000_000).optional(),
      })
      .optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.scope.kind === 'global' && rule.scope.id !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scope', 'id'],
        message: 'a global scope takes no id',
      });
    }
    if (
      rule.mode === 'adaptive' &&
      !rule.adaptive?.fallbackModel &&
      rule.adaptive?.minMaxOutputTokens === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['adaptive'],
        message: 'adaptive mode needs adaptive.fallbackModel or adaptive.minMaxOutputTokens',
      });
    }
  });

const perMinute = (max: number) =>
  z
    .number('must be a number')
    .int('must be a whole number')
    .positive('must be greater than 0')
    .max(max);

/** A rate limit as PUT to /api/rate-limits/:id. */
export const rateLimitBody = z
  .strictObject({
    id: idString.optional(),
    scope: z.strictObject({
      kind: z.enum(['user', 'agent', 'model', 'global']),
      id: idString.optional(),
    }),
    requestsPerMinute: perMinute(1e9).optional(),
    tokensPerMinute: perMinute(1e12).optional(),
  })
  .superRefine((limit, ctx) => {
    if (limit.scope.kind === 'global' && limit.scope.id !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scope', 'id'],
        message: 'a global scope takes no id',
      });
    }
    if (limit.requestsPerMinute === undefined && limit.tokensPerMinute === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['requestsPerMinute'],
        message: 'give requestsPerMinute or tokensPerMinute',
      });
    }
  });

/** The body's `id`, when given, must be the path's. */
export function sameId(pathId: string, bodyId: string | undefined): void {
  if (bodyId !== undefined && bodyId !== pathId) {
    throw badRequest(
      'id',
      `${describe(bodyId)} differs from the id in the path ${describe(pathId)}`,
    );
  }
}
