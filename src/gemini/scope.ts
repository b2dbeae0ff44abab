import type { TokenTracker } from '../account/tracker.js';

/** Everything known about a call before its request leaves. */
export interface CallScope {
  tracker: TokenTracker;
  agent: string;
  node: string | undefined;
  threadId: string | undefined;
  userId: string | undefined;
  tenantId: string | undefined;
  metadata: Record<string, unknown> | undefined;
  provider: string;
  model: string;
}
