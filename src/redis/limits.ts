/**
 * Rate limits (GCRA, one Lua script) and once-per-window alerts (SET NX) in Redis.
 *
 * GCRA keeps one instant per key, the theoretical arrival time (TAT): each unit of cost pushes
 * it `windowMs / limit` further, and a request passes while TAT stays within one window of now.
 * The TAT is held exactly, as whole ms plus a fraction in units of 1/limit ms. A cost above
 * `limit` can never pass: `retryAfterMs` is then Infinity, as in MemoryStore.
 * That allows a burst of `limit` at once and then one unit every `windowMs / limit`, smoothly,
 * with no fixed-window edge where twice the limit slips through.
 *
 * `consumeRates` checks several keys in ONE script, all or nothing: the same arithmetic, the
 * same `<p>rate:<key>` hashes and TTLs, written only when every request passes.
 *
 * Clock: by default the script uses the request's `now` (deterministic, and what the tests
 * inject), so the processes sharing a limit need synchronized clocks (NTP). With
 * `clock: 'server'` it reads Redis `TIME` instead, and `now` is ignored.
 */
import { checkNow, checkNumber } from '../keep/checks.js';
import { assertOneNow, neverPasses } from '../keep/gcra.js';
import type { RateRequest, RateResult, RatesResult } from '../keep/types.js';
import type { RedisClient } from './connect.js';
import { type KeyLayout, MAX_TTL_MS } from './keys.js';
import { LuaScript } from './lua.js';

/**
 * A rate key lives until its bucket is full again, plus this grace: the TTL runs on Redis's
 * clock while the arithmetic runs on the callers', so a key must not vanish a few milliseconds
 * early when the clocks differ a little. A cell past its time reads as a full bucket anyway.
 */
const RATE_TTL_GRACE_MS = 1_000;

/**
 * The GCRA step both scripts share (as `gcraStep` in keep/gcra.ts): the arrival time after
 * `cost` more units, exact in whole ms plus `frac` in 1/limit ms; a stale one restarts at now.
 */
const ARRIVE = `
local function arrive(ms, frac, limit, window, cost, now)
  if ms < now then ms, frac = now, 0 end
  local units = cost * window
  local q = math.floor(units / limit)
  local r = units - q * limit
  if r < 0 then q, r = q - 1, r + limit elseif r >= limit then q, r = q + 1, r - limit end
  ms, frac = ms + q, frac + r
  if frac >= limit then ms, frac = ms + 1, frac - limit end
  return ms, frac
end
`;

// KEYS: rate key. ARGV: limit, windowMs, cost, now ('' = server TIME).
// TAT is kept exactly as `ms + frac / limit` (integers, as MemoryStore does): no float drift.
// A changed limit or window starts from a full bucket. A bucket left full needs no key: it is
// deleted (a cell made for an old limit must not outlive a cost-0 request with a new one, as in
// MemoryStore). Returns {1, remaining} or {0, retryAfterMs}.
const GCRA = new LuaScript(`${ARRIVE}
local limit, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cell = redis.call('HMGET', KEYS[1], 'ms', 'frac', 'limit', 'window')
local ms, frac = now, 0
if cell[1] and tonumber(cell[3]) == limit and tonumber(cell[4]) == window then
  ms, frac = tonumber(cell[1]), tonumber(cell[2])
end
ms, frac = arrive(ms, frac, limit, window, cost, now)
local ahead = ms - now
if ahead > window or (ahead == window and frac > 0) then
  return {0, ahead - window + (frac > 0 and 1 or 0)}
end
if ahead > 0 or frac > 0 then
  redis.call('HSET', KEYS[1], 'ms', ms, 'frac', frac, 'limit', limit, 'window', window)
  redis.call('PEXPIRE', KEYS[1], ahead + (frac > 0 and 1 or 0) + ${RATE_TTL_GRACE_MS})
else
  redis.call('DEL', KEYS[1])
end
return {1, math.floor(((window - ahead) * limit - frac) / window)}
`);

// consumeRates, all or nothing. KEYS: the rate keys, in request order (a key may repeat).
// ARGV: now ('' = server TIME), then limit, windowMs, cost for each key. Steps GCRA exactly as
// above on working copies (a repeated key steps its own updated copy, a refused request moves it
// too, so the longest wait is the one after which all pass), and writes only if every request
// passes, with the same fields and TTL per key as GCRA. Returns {1, remaining...} or
// {0, index (1-based), retryAfterMs} for the refused request with the longest wait.
const GCRA_ALL = new LuaScript(`${ARRIVE}
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cells, order, out = {}, {}, {1}
local worst, wait = 0, 0
for i = 1, #KEYS do
  local key = KEYS[i]
  local limit, window = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
  local cell = cells[key]
  if not cell then
    local h = redis.call('HMGET', key, 'ms', 'frac', 'limit', 'window')
    cell = {}
    if h[1] then
      cell = {ms = tonumber(h[1]), frac = tonumber(h[2]), limit = tonumber(h[3]), window = tonumber(h[4])}
    end
    order[#order + 1] = key
  end
  local ms, frac = now, 0
  if cell.ms and cell.limit == limit and cell.window == window then
    ms, frac = cell.ms, cell.frac
  end
  ms, frac = arrive(ms, frac, limit, window, cost, now)
  cells[key] = {ms = ms, frac = frac, limit = limit, window = window}
  local ahead = ms - now
  if ahead > window or (ahead == window and frac > 0) then
    local w = ahead - window + (frac > 0 and 1 or 0)
    if w > wait then worst, wait = i, w end
  else
    out[#out + 1] = math.floor(((window - ahead) * limit - frac) / window)
  end
end
if worst > 0 then return {0, worst, wait} end
for _, key in ipairs(order) do
  local c = cells[key]
  local ahead = c.ms - now
  if ahead > 0 or c.frac > 0 then
    redis.call('HSET', key, 'ms', c.ms, 'frac', c.frac, 'limit', c.limit, 'window', c.window)
    redis.call('PEXPIRE', key, ahead + (c.frac > 0 and 1 or 0) + ${RATE_TTL_GRACE_MS})
  else
    redis.call('DEL', key)
  end
end
return out
`);

/** Whose clock rate limits use: the caller's `now` (`request`) or Redis `TIME` (`server`). */
export type RateClock = 'request' | 'server';

/** The rate-limit capability of `RedisStore`. */
export class RedisRateLimits {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
    private readonly clock: RateClock,
  ) {}

  async consumeRate(request: RateRequest): Promise<RateResult> {
    const { limit, windowMs, cost } = request;
    checkRate(request);
    this.checkClock(request.now);
    // More than a whole window's worth never passes, however long one waits.
    if (cost > limit) return { ok: false, retryAfterMs: Number.POSITIVE_INFINITY };
    const reply = (await GCRA.run(
      this.client,
      [this.keys.rate(request.key)],
      [limit, windowMs, cost, this.clock === 'server' ? '' : request.now],
    )) as [number, number];
    return reply[0] === 1
      ? { ok: true, remaining: reply[1] }
      : { ok: false, retryAfterMs: reply[1] };
  }

  /** All or nothing over several keys, in one Lua script (see GCRA_ALL). */
  async consumeRates(requests: readonly RateRequest[]): Promise<RatesResult> {
    assertOneNow(requests);
    for (const request of requests) checkRate(request);
    if (requests[0]) this.checkClock(requests[0].now);
    if (requests.length === 0) return { ok: true, remaining: [] };
    // Costs that can never pass are known without asking Redis.
    const impossible = neverPasses(requests);
    if (impossible !== undefined) {
      return { ok: false, retryAfterMs: Number.POSITIVE_INFINITY, index: impossible };
    }
    const now = this.clock === 'server' ? '' : (requests[0] as RateRequest).now;
    const args: (string | number)[] = [now];
    for (const { limit, windowMs, cost } of requests) args.push(limit, windowMs, cost);
    const reply = (await GCRA_ALL.run(
      this.client,
      requests.map((request) => this.keys.rate(request.key)),
      args,
    )) as number[];
    if (reply[0] === 1) return { ok: true, remaining: reply.slice(1) };
    return { ok: false, index: (reply[1] as number) - 1, retryAfterMs: reply[2] as number };
  }

  /**
   * On the request's clock, `now` must be a finite instant: a NaN reached Lua as nan, every
   * comparison with it was false and every request passed, however many. On the server's
   * clock `now` is not used.
   */
  private checkClock(now: number): void {
    if (this.clock === 'request') checkNow(now);
  }
}

function checkRate({ limit, windowMs, cost }: RateRequest): void {
  if (
    ![limit, windowMs, cost].every(Number.isSafeInteger) ||
    limit < 1 ||
    windowMs < 1 ||
    cost < 0
  ) {
    throw new RangeError(
      `rate limit needs integers limit ≥ 1, windowMs ≥ 1, cost ≥ 0; got ${limit}, ${windowMs}, ${cost}`,
    );
  }
}

/**
 * Marks an alert as sent: SET NX, so exactly one caller, in any process, gets `true` per
 * (key, threshold). The key expires when the window does (at least a minute from now, so a
 * window that has just ended cannot fire twice).
 */
export async function markAlert(
  client: RedisClient,
  keys: KeyLayout,
  key: string,
  threshold: number,
  expiresAt: number,
): Promise<boolean> {
  // NaN (or Infinity) became `PX NaN`, refused by Redis with a bare ReplyError.
  checkNumber(threshold, 'threshold');
  checkNumber(expiresAt, 'expiresAt');
  const ttl = Math.min(Math.max(Math.ceil(expiresAt - Date.now()), 60_000), MAX_TTL_MS);
  const reply = await client.set(keys.alert(key, threshold), '1', 'PX', ttl, 'NX');
  return reply === 'OK';
}
