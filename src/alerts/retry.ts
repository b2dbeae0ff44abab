/** Exponential backoff shared by the channels. */

/** How long to wait between attempts. */
export interface BackoffOptions {
  /** The first wait (default 200 ms). */
  initialMs?: number;
  /** No wait is longer (default 10,000 ms). */
  maxMs?: number;
  /** Each wait is this many times the one before (default 2). */
  factor?: number;
  /**
   * Randomizes each wait so that many senders failing together do not retry together. `true`
   * (default) is "full jitter": anywhere between 0 and the computed wait; a number in [0, 1]
   * randomizes that fraction of it; `false` waits exactly.
   */
  jitter?: boolean | number;
}

export type ResolvedBackoff = Required<Omit<BackoffOptions, 'jitter'>> & { jitter: number };

export function resolveBackoff(options: BackoffOptions | undefined): ResolvedBackoff {
  const jitter = options?.jitter ?? true;
  return {
    initialMs: options?.initialMs ?? 200,
    maxMs: options?.maxMs ?? 10_000,
    factor: options?.factor ?? 2,
    jitter: jitter === true ? 1 : jitter === false ? 0 : jitter,
  };
}

/**
 * The wait before retry number `retry` (0 for the first retry).
 *
 * @example
 * backoffDelay(3, { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0 }); // 1600
 */
export function backoffDelay(
  retry: number,
  backoff: ResolvedBackoff,
  random: () => number = Math.random,
): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** retry);
  return Math.round(base * (1 - backoff.jitter * random()));
}

/**
 * Milliseconds a `Retry-After` header asks for (delay-seconds or an HTTP date), or undefined
 * when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only an HTTP date goes to Date.parse: V8 reads almost anything as a date ("1.5", "-1",
  // "abc 1" are days of 2001), and a date in the past means "retry now": garbage would turn the
  // backoff off and hammer a server that is already failing.
  if (!HTTP_DATE.test(value)) return undefined;
  // asctime carries no zone but means GMT; Date.parse would read it in local time.
  const at = Date.parse(value.endsWith('GMT') ? value : `${value} GMT`);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** RFC 9110 HTTP-date: IMF-fixdate or obsolete RFC 850 (both end in GMT), or asctime. */
const HTTP_DATE =
  /^(?:[A-Za-z]{3,9}, \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** The longest delay a Node.js timer keeps: anything longer fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves after `ms`. The timer keeps the process alive: an alert waiting to retry matters. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
