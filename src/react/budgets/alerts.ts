import type { Store } from '../../keep/types.js';

const MAX_REMEMBERED = 10_000;

/**
 * Once-per-window alert bookkeeping. The store decides (`markAlert` is atomic there, so two
 * processes crossing the same threshold send one alert); this book only remembers what this
 * process already knows was sent, to skip the round trip on every later settle in the window.
 * A store without `markAlert` falls back to this book alone: once per window per process.
 */
export class AlertBook {
  private readonly known = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** True when this call is the first to mark (key, threshold) in its window. */
  async mark(key: string, threshold: number, expiresAt: number, now: number): Promise<boolean> {
    const id = `${key}\u0000${threshold}`;
    const until = this.known.get(id);
    if (until !== undefined && until > now) return false;
    const first = this.store.markAlert
      ? await this.store.markAlert(key, threshold, expiresAt)
      : true;
    this.remember(id, expiresAt, now);
    return first;
  }

  private remember(id: string, expiresAt: number, now: number): void {
    if (this.known.size >= MAX_REMEMBERED) {
      for (const [known, until] of this.known) if (until <= now) this.known.delete(known);
      // Still full: forget everything; the store still answers correctly, just with a round trip.
      if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    }
    this.known.set(id, expiresAt);
  }
}
