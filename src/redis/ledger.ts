/**
 * The ledger side of `RedisStore`: append (idempotent by call id, one Lua script per batch) and
 * query over the records Redis still keeps (`recordTtlMs`, 24 h by default). Redis is the shared
 * counter store, not the history: older records live in the SQLite ledger.
 */
import { ConfigurationError, describe } from '../errors.js';
import { checkBounds, checkRecordTiers } from '../keep/checks.js';
import type { LedgerRecord, QueryOptions, QueryPage, RecordFilter } from '../keep/types.js';
import { decodeRecord, encodeRecord } from './codec.js';
import type { RedisClient } from './connect.js';
import {
  type AggregateDim,
  DAILY_DIMS,
  HOURLY_DIMS,
  type KeyLayout,
  type RedisRetention,
  seenTtlMs,
  utcDay,
  utcHour,
} from './keys.js';
import { type LuaArg, LuaScript } from './lua.js';

/** Aggregate metrics after `calls`, in the order the append script reads them. */
export const METRICS = [
  'in',
  'out',
  'cached',
  'reasoning',
  'total',
  'unpriced',
  'cost_n',
  'cost_f',
] as const;

// KEYS: the sequence key (it also routes the script to the prefix's slot on a cluster).
// ARGV: prefix, recordTtl, seenTtl, dailyTtl, hourlyTtl, record count, then per record:
//   callId, timestamp, #fields, field/value…, #indexes, index key…, #aggregates,
//   (aggregate key, group value, 'd' | 'h')…, then the METRICS values.
// A record is written only if its `seen:` marker was absent (SET NX): replay counts once.
// Index members are `<16-digit sequence>:<callId>`: equal timestamps keep insertion order.
// Aggregates are summed per field in Lua first (one HINCRBY per field and batch, not per
// record); amounts from 10^13 up go straight to HINCRBY, so a batch's sums stay below 2^53. Afterwards, index entries whose records
// expired are trimmed (a bounded batch per call).
const APPEND = new LuaScript(`
local METRICS = {${METRICS.map((m) => `'${m}'`).join(', ')}}
local prefix, recordTtl, seenTtl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local ttl = { d = ARGV[4], h = ARGV[5] }
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiries = prefix .. 'exp'
local seq = redis.call('INCRBY', KEYS[1], ARGV[6]) - tonumber(ARGV[6])
local sums, lifetimes, indexed = {}, {}, {}
local added = 0
local i = 7
while i <= #ARGV do
  local id, ts = ARGV[i], ARGV[i + 1]
  local fields, nf = i + 3, tonumber(ARGV[i + 2])
  i = fields + 2 * nf
  local indexes, ni = i + 1, tonumber(ARGV[i])
  i = indexes + ni
  local aggregates, na = i + 1, tonumber(ARGV[i])
  i = aggregates + 3 * na
  local metrics = i
  i = i + #METRICS
  seq = seq + 1
  if redis.call('SET', prefix .. 'seen:' .. id, '1', 'NX', 'PX', seenTtl) then
    added = added + 1
    local rec = prefix .. 'rec:' .. id
    redis.call('HSET', rec, unpack(ARGV, fields, fields + 2 * nf - 1))
    redis.call('PEXPIRE', rec, recordTtl)
    local member = string.format('%016.0f', seq) .. ':' .. id
    local entry = { id, member }
    for j = indexes, indexes + ni - 1 do
      redis.call('ZADD', ARGV[j], ts, member)
      indexed[ARGV[j]] = true
      entry[#entry + 1] = ARGV[j]
    end
    redis.call('ZADD', expiries, now + recordTtl, cjson.encode(entry))
    for j = aggregates, aggregates + 3 * (na - 1), 3 do
      local key, value = ARGV[j], ARGV[j + 1]
      local sum = sums[key]
      if not sum then
        sum = {}
        sums[key] = sum
        lifetimes[key] = ttl[ARGV[j + 2]]
      end
      sum['calls:' .. value] = (sum['calls:' .. value] or 0) + 1
      for k, name in ipairs(METRICS) do
        local raw = ARGV[metrics + k - 1]
        local amount = tonumber(raw)
        local field = name .. ':' .. value
        if amount >= 1e13 then
          redis.call('HINCRBY', key, field, raw) -- too large to sum in a double: exact as is
        elseif amount ~= 0 then
          sum[field] = (sum[field] or 0) + amount
        end
      end
    end
  end
end
for key, sum in pairs(sums) do
  for field, amount in pairs(sum) do redis.call('HINCRBY', key, field, amount) end
  redis.call('PEXPIRE', key, lifetimes[key])
end
for key in pairs(indexed) do redis.call('PEXPIRE', key, recordTtl) end
local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, 500)
for _, member in ipairs(expired) do
  local entry = cjson.decode(member)
  for j = 3, #entry do redis.call('ZREM', entry[j], entry[2]) end
  redis.call('DEL', prefix .. 'rec:' .. entry[1])
  redis.call('ZREM', expiries, member)
end
if redis.call('EXISTS', expiries) == 1 then redis.call('PEXPIRE', expiries, recordTtl) end
return added
`);

/** Records per append script: bounds how long one script blocks the server. */
const APPEND_BATCH = 200;
const SCAN_BATCH = 500;
/** Digits of the sequence number that starts each index member. */
const SEQ_WIDTH = 16;

export class RedisLedger {
  private readonly appendHead: LuaArg[];

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
    retention: RedisRetention,
  ) {
    this.appendHead = [
      keys.prefix,
      retention.recordTtlMs,
      seenTtlMs(retention),
      retention.dailyTtlMs,
      retention.hourlyTtlMs,
    ];
  }

  async append(records: readonly LedgerRecord[]): Promise<number> {
    checkRecordTiers(records);
    let added = 0;
    for (let start = 0; start < records.length; start += APPEND_BATCH) {
      const batch = records.slice(start, start + APPEND_BATCH);
      const args = [...this.appendHead, batch.length];
      for (const record of batch) this.plan(record, args);
      added += (await APPEND.run(this.client, [this.keys.sequence], args)) as number;
    }
    return added;
  }

  /** One record's part of the append script's arguments. */
  private plan(record: LedgerRecord, args: LuaArg[]): void {
    const keys = this.keys;
    const fields = encodeRecord(record);
    args.push(record.callId, record.timestamp, fields.length / 2, ...fields);

    const indexes = [keys.index];
    if (record.userId !== undefined) indexes.push(keys.userIndex(record.userId));
    if (record.threadId !== undefined) indexes.push(keys.thread(record.threadId));
    args.push(indexes.length, ...indexes);

    const day = utcDay(record.timestamp);
    const hour = utcHour(record.timestamp);
    args.push(DAILY_DIMS.length + HOURLY_DIMS.length);
    for (const dim of DAILY_DIMS) args.push(keys.daily(day, dim), dimValue(record, dim), 'd');
    for (const dim of HOURLY_DIMS) args.push(keys.hourly(hour, dim), dimValue(record, dim), 'h');

    const femto = record.costFemto;
    args.push(
      record.inputTokens,
      record.outputTokens,
      record.cacheReadTokens,
      record.reasoningTokens,
      record.totalTokens,
      record.priced ? 0 : 1,
      (femto / 1_000_000n).toString(),
      (femto % 1_000_000n).toString(),
    );
  }

  async query(options: QueryOptions = {}): Promise<QueryPage> {
    const limit = pageLimit(options.limit);
    checkBounds(options); // a NaN bound reached ZRANGE as "NaN": a bare ReplyError
    const records: LedgerRecord[] = [];
    let more = false;
    let last: Cursor | undefined;
    for await (const [record, member] of this.scanEntries(options, options.cursor)) {
      if (records.length === limit) {
        more = true;
        break;
      }
      records.push(record);
      last = { timestamp: record.timestamp, member };
    }
    return more && last ? { records, nextCursor: encodeCursor(last) } : { records };
  }

  /**
   * Every kept record matching the filter, in timestamp order (ties by call id), read from the
   * most selective index in batches. Entries whose record has expired are dropped on the way.
   */
  async *scan(filter: RecordFilter): AsyncGenerator<LedgerRecord> {
    for await (const [record] of this.scanEntries(filter)) yield record;
  }

  private async *scanEntries(
    filter: RecordFilter & { order?: 'asc' | 'desc' },
    cursor?: string,
  ): AsyncGenerator<[LedgerRecord, string]> {
    const keys = this.keys;
    const index =
      filter.threadId !== undefined
        ? keys.thread(filter.threadId)
        : filter.userId !== undefined
          ? keys.userIndex(filter.userId)
          : keys.index;
    const desc = filter.order === 'desc';
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    let low = filter.from === undefined ? '-inf' : String(filter.from);
    let high = filter.to === undefined ? '+inf' : `(${filter.to}`;
    if (after && !desc && (filter.from === undefined || after.timestamp > filter.from)) {
      low = String(after.timestamp);
    }
    if (after && desc && (filter.to === undefined || after.timestamp < filter.to)) {
      high = String(after.timestamp);
    }
    for (let offset = 0; ; offset += SCAN_BATCH) {
      const entries = await (desc
        ? this.client.zrange(index, high, low, 'BYSCORE', 'REV', 'LIMIT', offset, SCAN_BATCH)
        : this.client.zrange(index, low, high, 'BYSCORE', 'LIMIT', offset, SCAN_BATCH));
      if (entries.length === 0) return;
      const pipeline = this.client.pipeline();
      for (const member of entries) pipeline.hgetall(keys.record(member.slice(SEQ_WIDTH + 1)));
      const hashes = (await pipeline.exec()) ?? [];
      const gone: string[] = [];
      for (const [i, [error, hash]] of hashes.entries()) {
        if (error) throw error;
        const record = decodeRecord(hash as Record<string, string>);
        if (!record) {
          gone.push(entries[i] as string);
          continue;
        }
        if (after && !pastCursor(record.timestamp, entries[i] as string, after, desc)) continue;
        if (matches(record, filter)) yield [record, entries[i] as string];
      }
      if (gone.length > 0) await this.client.zrem(index, ...gone);
      if (entries.length < SCAN_BATCH) return;
      offset -= gone.length; // removed entries shift the rest down
    }
  }
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ConfigurationError(`limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, 10_000);
}

/** The record's group in an aggregate; no user (or tenant) is the '' group, as in summaries. */
function dimValue(record: LedgerRecord, dim: AggregateDim): string {
  switch (dim) {
    case 'all':
      return '';
    case 'user':
      return record.userId ?? '';
    case 'tenant':
      return record.tenantId ?? '';
    case 'agent':
      return record.agent;
    case 'model':
      return record.model;
  }
}

function matches(record: LedgerRecord, filter: RecordFilter): boolean {
  return (
    (filter.userId === undefined || record.userId === filter.userId) &&
    (filter.tenantId === undefined || record.tenantId === filter.tenantId) &&
    (filter.threadId === undefined || record.threadId === filter.threadId) &&
    (filter.agent === undefined || record.agent === filter.agent) &&
    (filter.model === undefined || record.model === filter.model) &&
    (filter.sessionId === undefined || record.sessionId === filter.sessionId) &&
    (filter.from === undefined || record.timestamp >= filter.from) &&
    (filter.to === undefined || record.timestamp < filter.to)
  );
}

/** Where a page ended: the last record's timestamp and index member. */
interface Cursor {
  timestamp: number;
  member: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.timestamp}:${cursor.member}`).toString('base64url');
}

/** An index member as the append script writes it: `<16-digit sequence>:<callId>`. */
const MEMBER = new RegExp(`^\\d{${SEQ_WIDTH}}:`);

/**
 * The position in a cursor, exactly as `encodeCursor` wrote it. A lenient `Number()` took an
 * empty timestamp for 0, so a damaged cursor silently restarted the listing from the first
 * record; a cursor that was not a string reached `Buffer.from` and its TypeError was reported
 * as Redis being unavailable.
 */
function decodeCursor(cursor: string): Cursor {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString() : '';
  const colon = text.indexOf(':');
  const stamp = text.slice(0, colon);
  const timestamp = Number(stamp);
  const member = text.slice(colon + 1);
  if (
    colon < 0 ||
    !Number.isFinite(timestamp) ||
    String(timestamp) !== stamp ||
    !MEMBER.test(member)
  ) {
    throw new ConfigurationError(`${describe(cursor)} is not a cursor of this store`);
  }
  return { timestamp, member };
}

/** Redis orders equal scores by member; members start with a fixed-width sequence number. */
function pastCursor(timestamp: number, member: string, cursor: Cursor, desc: boolean): boolean {
  if (timestamp !== cursor.timestamp) {
    return desc ? timestamp < cursor.timestamp : timestamp > cursor.timestamp;
  }
  const seq = member.slice(0, SEQ_WIDTH);
  const at = cursor.member.slice(0, SEQ_WIDTH);
  return desc ? seq < at : seq > at;
}
