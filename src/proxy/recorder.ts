/**
 * Where the gateway's records go. By default straight to the ledger: priced once, written in
 * batches off the request path, and nothing kept in memory per user or call (a gateway serves
 * any number of users for months; a `TokenTracker` keeps totals per user and thread). Given a
 * tracker, records go through it instead (its events, statistics and store).
 */

import { newSessionId } from '../account/ids.js';
import { LedgerWriter } from '../account/ledger.js';
import { FRESH_CALL_ID, type RecordInput, type UsageRecord } from '../account/record.js';
import type { TokenTracker } from '../account/tracker.js';
import type { Store } from '../keep/types.js';
import { defaultPricer, type Pricer } from '../price/pricer.js';
import type { TokenUsage } from '../usage/types.js';

/** One finished call, its usage already read. */
export interface FinishedCall {
  agent: string;
  model: string;
  /** The catalog provider that served the call (`google`, `openai`, `anthropic`). */
  provider: string;
  usage: TokenUsage;
  callId: string;
  userId: string | undefined;
  tenantId: string | undefined;
  metadata: Record<string, unknown>;
}

/** Records finished calls. */
export interface CallRecorder {
  /** The pricer of the records (reservations are estimated with it too). */
  readonly pricer: Pricer;
  record(call: FinishedCall): UsageRecord | undefined;
  /** Writes everything buffered; true when nothing is left. */
  flush(): Promise<boolean>;
  close(): Promise<boolean>;
}

/** A recorder writing to `store` in batches. */
export function ledgerRecorder(store: Store): CallRecorder {
  const sessionId = newSessionId();
  const pricer = defaultPricer();
  const writer = new LedgerWriter(store, sessionId, {}, (event) => {
    const message = event.error instanceof Error ? event.error.message : String(event.error);
    console.error(`[tollgate proxy] ledger "${event.store}" failed; will retry: ${message}`);
  });
  let sequence = 0;
  return {
    pricer,
    record(call) {
      const timestamp = Date.now();
      const cost = pricer.priceCall(call.usage, call.model, call.provider, timestamp);
      const record: UsageRecord = {
        id: `${sessionId}-${++sequence}`,
        callId: call.callId,
        agent: call.agent,
        node: undefined,
        model: call.model,
        provider: cost.provider ?? call.provider,
        userId: call.userId,
        tenantId: call.tenantId,
        threadId: undefined,
        metadata: call.metadata,
        timestamp,
        usage: call.usage,
        cost,
        serviceTier: call.usage.serviceTier ?? 'standard',
        prepaid: call.usage.serviceTier === 'provisioned',
      };
      writer.push(record);
      return record;
    },
    flush: () => writer.flush(),
    close: () => writer.close(),
  };
}

/** A recorder going through `tracker` (which writes to its own store, if it has one). */
export function trackerRecorder(tracker: TokenTracker): CallRecorder {
  return {
    pricer: tracker.pricer,
    record(call) {
      const input: RecordInput = {
        agent: call.agent,
        model: call.model,
        provider: call.provider,
        usage: call.usage,
        callId: call.callId,
        metadata: call.metadata,
      };
      if (call.userId !== undefined) input.userId = call.userId;
      if (call.tenantId !== undefined) input.tenantId = call.tenantId;
      // Minted for this one call: no dedupe window needed.
      (input as { [FRESH_CALL_ID]?: boolean })[FRESH_CALL_ID] = true;
      return tracker.record(input);
    },
    flush: () => tracker.flush(),
    // The tracker is the caller's: written out, not closed.
    close: () => tracker.flush(),
  };
}
