/**
 * A small response cache for aggregate endpoints: identical requests within `ttlMs` share one
 * answer, concurrent ones share one computation, and a slightly stale answer is served while a
 * fresh one is computed, so a dashboard polled by many clients costs one query per second.
 */

interface Entry<T> {
  value?: T;
  has: boolean;
  freshUntil: number;
  staleUntil: number;
  pending?: Promise<T> | undefined;
}

export class TtlCache {
  private readonly entries = new Map<string, Entry<unknown>>();

  /**
   * @param ttlMs how long an answer is fresh; 0 turns the cache off.
   * @param staleMs how long after that a stale answer may still be served while refreshing.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly staleMs = ttlMs * 30,
    private readonly maxEntries = 1_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The cached value of `key`, or `compute()`'s.
   *
   * @example
   * const body = await cache.get(`summary|${tenant}|${days}`, () => buildSummary(tenant, days));
   */
  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return compute();
    const now = this.clock();
    let entry = this.entries.get(key) as Entry<T> | undefined;
    if (entry?.has && now < entry.freshUntil) return Promise.resolve(entry.value as T);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      entry = { has: false, freshUntil: 0, staleUntil: 0 };
      this.entries.set(key, entry);
    }
    const held = entry;
    if (!held.pending) {
      const pending = compute().then((value) => {
        held.value = value;
        held.has = true;
        held.freshUntil = this.clock() + this.ttlMs;
        held.staleUntil = held.freshUntil + this.staleMs;
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
        },
      );
    }
    if (held.has && now < held.staleUntil) return Promise.resolve(held.value as T);
    return held.pending as Promise<T>;
  }
}
