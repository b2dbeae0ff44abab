/**
 * Atomic budgets in Redis: reserve, settle, release and read counters, each ONE Lua script, so
 * no two processes ever interleave between the check and the increment (LiteLLM's race, see
 * DESIGN.md). Expired reservations are purged inside the same scripts by their `holdUntil`
 * score, so a crashed worker's hold frees itself and never leaks.
 *
 * Unit: exact femto-dollars, as the contract speaks. Lua numbers are doubles, exact only below
 * 2^53, so the scripts never hold an amount in one number: RedisClient stores each amount as its
 * decimal string, and the scripts split it into two limbs (whole 10^12 femto-dollars, i.e.
 * milli-dollars, and the remainder) and add, subtract and compare limb by limb with carries.
 * Every limb stays far below 2^53, so counters are exact to the femto-dollar up to about
 * $9 trillion, and the sum of the settled calls equals the counter to the last unit.
 */
import { checkAmount, checkCounters, checkNow, checkNumber } from '../keep/checks.js';
import type { BudgetCounter, CounterState, ReserveRequest, ReserveResult } from '../keep/types.js';
import type { RedisClient } from './connect.js';
import { type KeyLayout, MAX_TTL_MS } from './keys.js';
import { LuaScript } from './lua.js';

/** The most a counter or an amount may hold: the high limb must stay below 2^53. */
export const MAX_COUNTER_FEMTO = (2n ** 53n - 1n) * 10n ** 12n;

function amountArg(femto: bigint, what: string): string {
  checkAmount(femto, what); // a bigint ≥ 0
  if (femto > MAX_COUNTER_FEMTO) {
    throw new RangeError(
      `${what} must be between 0 and ${MAX_COUNTER_FEMTO} femto-dollars, got ${femto}`,
    );
  }
  return femto.toString();
}

/** A limit beyond what a counter can reach is no limit at all: cap it there. */
function limitArg(femto: bigint): string {
  return (femto < 0n ? 0n : femto > MAX_COUNTER_FEMTO ? MAX_COUNTER_FEMTO : femto).toString();
}

// Two-limb arithmetic on decimal strings of femto-dollars: value = hi * 10^12 + lo.
const HELPERS = `
local B = 1e12
local function num(s)
  if not s or s == '' then return 0, 0 end
  local n = #s
  if n <= 12 then return 0, tonumber(s) end
  return tonumber(string.sub(s, 1, n - 12)), tonumber(string.sub(s, n - 11))
end
local function str(hi, lo)
  if hi <= 0 then return string.format('%.0f', math.max(lo, 0)) end
  return string.format('%.0f', hi) .. string.format('%012.0f', lo)
end
local function add(h1, l1, h2, l2)
  local h, l = h1 + h2, l1 + l2
  if l >= B then return h + 1, l - B end
  return h, l
end
local function sub(h1, l1, h2, l2)
  local h, l = h1 - h2, l1 - l2
  if l < 0 then h, l = h - 1, l + B end
  if h < 0 then return 0, 0 end
  return h, l
end
local function incr(h, field, amount)
  local a1, a2 = num(redis.call('HGET', h, field))
  local b1, b2 = num(amount)
  redis.call('HSET', h, field, str(add(a1, a2, b1, b2)))
end
local function decr(h, field, amount)
  local a1, a2 = num(redis.call('HGET', h, field))
  local b1, b2 = num(amount)
  redis.call('HSET', h, field, str(sub(a1, a2, b1, b2)))
end
local function drop(h, id)
  local held = redis.call('HGET', h, 'c:' .. id)
  if held then
    decr(h, 'r', held)
    redis.call('HDEL', h, 'c:' .. id)
  end
end
local function purge(h, z, now)
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. now)
  for _, id in ipairs(expired) do drop(h, id) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. now) end
end
local function unhold(call, id, prefix)
  local names = redis.call('HGET', call, 'k')
  if names then
    for _, name in ipairs(cjson.decode(names)) do
      drop(prefix .. 'b:' .. name, id)
      redis.call('ZREM', prefix .. 'bz:' .. name, id)
    end
  end
  redis.call('HDEL', call, 'k', 'a', 'h')
  redis.call('HSET', call, 'st', 'x')
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;

// KEYS: call, then (counter hash, reservations zset) per counter.
// ARGV: callId, amount, holdUntil, now, prefix, callTtl, names (JSON), then (limit, hard, ttl) per counter.
const RESERVE = new LuaScript(`${HELPERS}
local call, id, amount, now, prefix = KEYS[1], ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local n = (#KEYS - 1) / 2
local state = redis.call('HGET', call, 'st')
if state == 's' then return {1} end
if state == 'r' then
  if tonumber(redis.call('HGET', call, 'h')) >= tonumber(now) then return {1} end
  unhold(call, id, prefix)
end
local a1, a2 = num(amount)
for i = 1, n do
  local h = KEYS[2 * i]
  purge(h, KEYS[2 * i + 1], now)
  if ARGV[6 + 3 * i] == '1' then
    local s1, s2 = num(redis.call('HGET', h, 's'))
    local u1, u2 = add(s1, s2, num(redis.call('HGET', h, 'r')))
    local t1, t2 = add(u1, u2, a1, a2)
    local m1, m2 = num(ARGV[5 + 3 * i])
    if t1 > m1 or (t1 == m1 and t2 > m2) then return {0, i, str(u1, u2)} end
  end
end
for i = 1, n do
  local h, z, ttl = KEYS[2 * i], KEYS[2 * i + 1], ARGV[7 + 3 * i]
  incr(h, 'r', amount)
  redis.call('HSET', h, 'c:' .. id, amount)
  redis.call('ZADD', z, ARGV[3], id)
  extend(h, ttl)
  extend(z, ttl)
end
redis.call('HSET', call, 'st', 'r', 'a', amount, 'h', ARGV[3], 'k', ARGV[7])
extend(call, ARGV[6])
return {1}
`);

// KEYS: call, then one counter hash per counter. ARGV: callId, actual, prefix, callTtl, ttl per counter.
const SETTLE = new LuaScript(`${HELPERS}
local call, id, actual, prefix = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local state = redis.call('HGET', call, 'st')
if state == 's' then return 0 end
if state == 'r' then unhold(call, id, prefix) end
for i = 2, #KEYS do
  incr(KEYS[i], 's', actual)
  extend(KEYS[i], ARGV[3 + i])
end
redis.call('HSET', call, 'st', 's', 'v', actual)
extend(call, ARGV[4])
return 1
`);

// KEYS: call. ARGV: callId, prefix.
const RELEASE = new LuaScript(`${HELPERS}
if redis.call('HGET', KEYS[1], 'st') ~= 'r' then return 0 end
unhold(KEYS[1], ARGV[1], ARGV[2])
return 1
`);

// KEYS: (counter hash, reservations zset) per counter. ARGV: now.
const READ = new LuaScript(`${HELPERS}
local out = {}
for i = 1, #KEYS, 2 do
  purge(KEYS[i], KEYS[i + 1], ARGV[1])
  out[#out + 1] = redis.call('HGET', KEYS[i], 's') or '0'
  out[#out + 1] = redis.call('HGET', KEYS[i], 'r') or '0'
end
return out
`);

/** The budget capability of `RedisStore`. */
export class RedisBudgets {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
    private readonly graceMs: number,
  ) {}

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    // Checked before any script runs: Lua scripts are not rolled back, so a NaN holdUntil that
    // ZADD refused left the amount added to the counter with nothing to ever take it back.
    checkNow(request.now);
    checkNumber(request.holdUntil, 'holdUntil');
    checkCounters(request.counters);
    const counters = distinct(request.counters);
    const amount = amountArg(request.amountFemto, 'amountFemto');
    const now = request.now;
    const callExpiry = Math.max(request.holdUntil, ...counters.map((c) => c.expiresAt));
    const keys = [this.keys.call(request.callId)];
    const args: (string | number)[] = [
      request.callId,
      amount,
      request.holdUntil,
      now,
      this.keys.prefix,
      this.ttl(callExpiry, now),
      JSON.stringify(counters.map((c) => c.key)),
    ];
    for (const counter of counters) {
      keys.push(this.keys.counter(counter.key), this.keys.reservations(counter.key));
      args.push(
        limitArg(counter.limitFemto),
        counter.hard ? 1 : 0,
        this.ttl(counter.expiresAt, now),
      );
    }
    const reply = (await RESERVE.run(this.client, keys, args)) as [number, number?, string?];
    if (reply[0] === 1) return { ok: true };
    const refused = counters[(reply[1] ?? 1) - 1] as BudgetCounter;
    return {
      ok: false,
      key: refused.key,
      limitFemto: refused.limitFemto,
      usedFemto: BigInt(reply[2] ?? '0'),
    };
  }

  async settle(
    callId: string,
    actualFemto: bigint,
    counters: BudgetCounter[],
    now: number,
  ): Promise<void> {
    checkNow(now); // a NaN now made NaN TTLs: the counter and call keys never expired
    checkCounters(counters);
    const unique = distinct(counters);
    const callExpiry = Math.max(now, ...unique.map((c) => c.expiresAt));
    await SETTLE.run(
      this.client,
      [this.keys.call(callId), ...unique.map((c) => this.keys.counter(c.key))],
      [
        callId,
        amountArg(actualFemto, 'actualFemto'),
        this.keys.prefix,
        this.ttl(callExpiry, now),
        ...unique.map((c) => this.ttl(c.expiresAt, now)),
      ],
    );
  }

  async release(callId: string, now: number): Promise<void> {
    checkNow(now); // unused here, but refused as every other driver refuses it
    await RELEASE.run(this.client, [this.keys.call(callId)], [callId, this.keys.prefix]);
  }

  async counters(keys: readonly string[], now: number): Promise<CounterState[]> {
    checkNow(now);
    if (keys.length === 0) return [];
    const redisKeys = keys.flatMap((key) => [this.keys.counter(key), this.keys.reservations(key)]);
    const reply = (await READ.run(this.client, redisKeys, [now])) as string[];
    return keys.map((key, i) => ({
      key,
      settledFemto: BigInt(reply[2 * i] ?? '0'),
      reservedFemto: BigInt(reply[2 * i + 1] ?? '0'),
    }));
  }

  /** Keys live until their window ends plus the grace, measured on the request's clock. */
  private ttl(expiresAt: number, now: number): number {
    return Math.min(Math.max(Math.ceil(expiresAt + this.graceMs - now), 1_000), MAX_TTL_MS);
  }
}

/** One entry per counter key: a key named twice holds once, under its stricter hard limit. */
function distinct(counters: readonly BudgetCounter[]): BudgetCounter[] {
  const byKey = new Map<string, BudgetCounter>();
  for (const counter of counters) {
    const seen = byKey.get(counter.key);
    if (!seen) {
      byKey.set(counter.key, counter);
      continue;
    }
    const lower = seen.limitFemto < counter.limitFemto ? seen : counter;
    const limit = seen.hard === counter.hard ? lower : seen.hard ? seen : counter;
    byKey.set(counter.key, {
      key: counter.key,
      hard: seen.hard || counter.hard,
      limitFemto: limit.limitFemto,
      expiresAt: Math.max(seen.expiresAt, counter.expiresAt),
    });
  }
  return [...byKey.values()];
}
