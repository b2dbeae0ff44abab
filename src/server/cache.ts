/**
 * A small response cache for aggregate endpoints: identical requests within `ttlMs` share one
 * answer, concurrent ones share one computation, and a slightly stale answer is served while a
 * fresh one is computed, so a dashboard polled by many clients costs one query per second.
 * Bounded by entries and by bytes (answers are JSON text): the least recently used go first.
 */

interface Entry {
  value?: string;
  has: boolean;
  freshUntil: number;
  staleUntil: number;
  bytes: number;
  pending?: Promise<string> | undefined;
}

export interface TtlCacheOptions {
  /** How long an answer is fresh; 0 turns the cache off. */
  ttlMs: number;
  /** How long after that a stale answer may still be served while refreshing (default 30 × ttl). */
  staleMs?: number;
  /** Most answers kept (default 1,000). */
  maxEntries?: number;
  /** Most bytes kept, keys and answers as UTF-16 (default 16 MiB). */
  maxBytes?: number;
  clock?: () => number;
}

/** Bytes of an entry besides its strings: the entry object and its map slot. */
const ENTRY_BYTES = 200;

export class TtlCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly staleMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly clock: () => number;
  private size = 0;

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.staleMs = options.staleMs ?? options.ttlMs * 30;
    this.maxEntries = options.maxEntries ?? 1_000;
    this.maxBytes = options.maxBytes ?? 16 * 1_048_576;
    this.clock = options.clock ?? Date.now;
  }

  /** Entries and estimated bytes held now. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.size };
  }

  /**
   * The cached value of `key`, or `compute()`'s.
   *
   * @example
   * const body = await cache.get(`summary|${tenant}|${days}`, () => buildSummaryJson(tenant, days));
   */
  get(key: string, compute: () => Promise<string>): Promise<string> {
    if (this.ttlMs <= 0) return compute();
    const now = this.clock();
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last: eviction takes the map's first entries.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    if (entry?.has && now < entry.freshUntil) return Promise.resolve(entry.value as string);
    if (!entry) {
      entry = { has: false, freshUntil: 0, staleUntil: 0, bytes: ENTRY_BYTES + 2 * key.length };
      this.entries.set(key, entry);
      this.size += entry.bytes;
      this.evict(entry);
    }
    const held = entry;
    if (!held.pending) {
      const pending = compute().then((value) => {
        const bytes = ENTRY_BYTES + 2 * (key.length + value.length);
        // An entry evicted meanwhile is no longer counted (nor kept).
        if (this.entries.get(key) === held) this.size += bytes - held.bytes;
        held.bytes = bytes;
        held.value = value;
        held.has = true;
        held.freshUntil = this.clock() + this.ttlMs;
        held.staleUntil = held.freshUntil + this.staleMs;
        if (this.entries.get(key) === held) this.evict(held);
        return value;
      });
      held.pending = pending;
      // Nobody may be waiting (a background refresh): its failure must not go unhandled.
      pending.then(
        () => {
          held.pending = undefined;
        },
        () => {
          held.pending = undefined;
          // A failed first computation leaves nothing worth keeping.
          if (!held.has && this.entries.get(key) === held) this.remove(key, held);
        },
      );
    }
    if (held.has && now < held.staleUntil) return Promise.resolve(held.value as string);
    return held.pending as Promise<string>;
  }

  /** Drops the least recently used entries (never `keep`) until entries and bytes fit. */
  private evict(keep: Entry): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.size <= this.maxBytes) return;
      if (entry !== keep) this.remove(key, entry);
    }
    // `keep` alone is larger than the bound: it is answered, not kept.
    if (this.size > this.maxBytes) {
      for (const [key, entry] of this.entries) this.remove(key, entry);
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.size -= entry.bytes;
  }
}
