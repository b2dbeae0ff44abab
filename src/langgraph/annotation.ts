/**
 * Token usage in the graph's state. A compiled subgraph sharing the parent's state returns its
 * whole state, so an additive reducer would count its calls twice. The channel therefore holds
 * a snapshot of the tracker's statistics stamped with its session, and the reducer keeps the
 * snapshot that covers more: for one session the one with more calls, across sessions the
 * newer one. Merging the same snapshot any number of times changes nothing.
 */

import { getTokenTracker, type TokenTracker, type TokenUsageStats } from '../index.js';
import { Annotation } from './langchain.js';

/** The core's `TokenUsageStats`, stamped with the session that produced them. */
export interface TokenUsageSnapshot extends TokenUsageStats {
  /** The tracker's `sessionId`. */
  sessionId: string;
  /** When the snapshot was taken (epoch ms). */
  capturedAt: number;
}

/**
 * The snapshot of a tracker's statistics.
 *
 * @example
 * const stats = snapshotTokenUsage(tracker);
 * stats.totalCostUsd; stats.byAgent.researcher?.tokens;
 */
export function snapshotTokenUsage(tracker: TokenTracker = getTokenTracker()): TokenUsageSnapshot {
  // Completed in place rather than spread into a copy: this runs at the end of every run.
  const snapshot = tracker.getStatistics() as TokenUsageSnapshot;
  snapshot.sessionId = tracker.sessionId;
  snapshot.capturedAt = Date.now();
  return snapshot;
}

/**
 * The `tokenUsageStats` reducer: idempotent, so whole-state returns of subgraphs and parallel
 * branches never double count. Statistics without a stamp (a node returning
 * `tracker.getStatistics()` itself) are taken to be of the same session.
 *
 * @example
 * mergeTokenUsage(a, a);            // → a
 * mergeTokenUsage(after3, after5);  // same session → after5 (more calls)
 * mergeTokenUsage(after5, after3);  // → after5: a stale copy never wins
 */
export function mergeTokenUsage(
  current: TokenUsageStats | null | undefined,
  update: TokenUsageStats | null | undefined,
): TokenUsageStats | null {
  if (!update) return current ?? null;
  if (!current) return update;
  const a = current as Partial<TokenUsageSnapshot>;
  const b = update as Partial<TokenUsageSnapshot>;
  const newer = (b.capturedAt ?? 0) >= (a.capturedAt ?? 0) ? update : current;
  if (a.sessionId !== undefined && b.sessionId !== undefined && a.sessionId !== b.sessionId) {
    return newer;
  }
  if (update.totalCalls !== current.totalCalls) {
    return update.totalCalls > current.totalCalls ? update : current;
  }
  return newer;
}

/**
 * State channels to spread into your graph's state: `tokenUsageStats`, holding the current
 * tracker's statistics (`null` until a node returns `tokenUsageUpdate()`). The value is typed as
 * the core's `TokenUsageStats`; at run time it is a `TokenUsageSnapshot` (stamped with its session).
 *
 * @example
 * const State = Annotation.Root({ ...MessagesAnnotation.spec, ...TokenUsageAnnotation.spec });
 */
export const TokenUsageAnnotation = Annotation.Root({
  tokenUsageStats: Annotation<TokenUsageStats | null>({
    reducer: mergeTokenUsage,
    default: () => null,
  }),
});

/**
 * The state update that puts the tracker's statistics in `tokenUsageStats`; return it from a node.
 *
 * @example
 * async function writer(state) {
 *   const draft = await model.invoke(state.messages);
 *   return { messages: [draft], ...tokenUsageUpdate() };
 * }
 */
export function tokenUsageUpdate(tracker: TokenTracker = getTokenTracker()): {
  tokenUsageStats: TokenUsageSnapshot;
} {
  return { tokenUsageStats: snapshotTokenUsage(tracker) };
}
