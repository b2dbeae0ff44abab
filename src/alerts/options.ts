/** Option validation for the channels: once, at creation, naming each bad field and value. */
import { z } from 'zod';
import { ConfigurationError, formatIssues } from '../errors.js';
import { MAX_TIMER_MS } from './retry.js';

/**
 * A delay in milliseconds. Capped at the longest timer Node.js keeps: a longer one fires after
 * 1 ms (with only a warning), so a "wait a month" would become a retry storm.
 */
export const delayMs = () =>
  z
    .number()
    .int()
    .nonnegative()
    .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (the longest Node.js timer)`);

export const backoffSchema = z
  .object({
    initialMs: delayMs().optional(),
    maxMs: delayMs().optional(),
    factor: z.number().min(1).optional(),
    jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
  })
  .strict()
  .optional();

export const retriesSchema = z.number().int().min(0).max(20).optional();

/** Parses `value` with `schema`, or throws `ConfigurationError` listing every bad field. */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ConfigurationError(`${what}: ${formatIssues(value, parsed.error, '(options)')}`);
}
