/** Option validation for the channels: once, at creation, naming each bad field and value. */
import { z } from 'zod';
import { ConfigurationError, formatIssues } from '../errors.js';

export const backoffSchema = z
  .object({
    initialMs: z.number().int().nonnegative().optional(),
    maxMs: z.number().int().nonnegative().optional(),
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
