/**
 * One admitted call, upstream and back: the upstream answer passes to the client chunk by chunk
 * as it arrives (nothing is buffered), its usage is read on the side, and when it ends (done,
 * cut short, or abandoned by the client) the call is recorded once and its reservation settled
 * with the exact cost, or released when nothing was used.
 */
import type { UsageRecord } from '../account/record.js';
import type { BudgetManager } from '../react/budgets/manager.js';
import type { Reservation } from '../react/budgets/types.js';
import type { MetricsRegistry } from '../server/metrics.js';
import type { ProxyAnswer, ProxyBody, ProxyInput } from './answer.js';
import type { ProxyIdentity } from './keys.js';
import {
  CATALOG_PROVIDER,
  type PreparedCall,
  type ProviderAdapter,
  type UsageObserver,
} from './provider.js';
import type { CallRecorder } from './recorder.js';
import { type UpstreamAnswer, type UpstreamClient, UpstreamError } from './upstream.js';

/** What a running gateway reports about itself. */
export interface ProxyStats {
  /** Calls forwarded and not yet finished. */
  inFlight: number;
  /** Calls recorded since the gateway started. */
  recorded: number;
  /** Calls refused before forwarding (auth, rate limit, budget, bad request). */
  refused: number;
  /** Calls whose upstream failed (connection, timeout, error status, cut short). */
  upstreamFailures: number;
}

/** What every relayed call shares. */
export interface Relay {
  recorder: CallRecorder;
  /** How upstreams are called. */
  client: UpstreamClient;
  budgets: BudgetManager | undefined;
  metrics: MetricsRegistry | undefined;
  agent: string;
  stats: ProxyStats;
  upstreamTimeoutMs: number;
  idleTimeoutMs: number;
  /** Recordings and settlements not done yet (`flush` waits for them). */
  pending: Set<Promise<void>>;
}

/** A call that passed auth, rate limits and its budgets. */
export interface Admitted {
  adapter: ProviderAdapter;
  call: PreparedCall;
  identity: ProxyIdentity;
  callId: string;
  reservation: Reservation | undefined;
  estimateFemto: bigint;
  /** Set when an adaptive budget switched the model. */
  /** What an adaptive budget changed: the model (`from`, `to`), the output cap (`maxOutputTokens`). */
  adapted: { from?: string; to?: string; maxOutputTokens?: number } | undefined;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
}

/** How the upstream answer ended. */
type Ending = 'done' | 'cut' | 'cancelled';

const STATUS_OF = { timeout: 504, unreachable: 502, aborted: 499 } as const;
const CODE_OF = {
  timeout: 'UPSTREAM_TIMEOUT',
  unreachable: 'UPSTREAM_UNAVAILABLE',
  aborted: 'CLIENT_CLOSED',
} as const;

/**
 * Forwards the call and answers with the upstream's answer, as it arrives. Never rejects: an
 * upstream that fails before answering becomes the provider's own error answer.
 */
export async function relay(
  shared: Relay,
  admitted: Admitted,
  input: ProxyInput,
  url: string,
  headers: Headers,
): Promise<ProxyAnswer> {
  const { adapter, call } = admitted;
  const sent = shared.client.post(
    url,
    headers,
    call.upstreamBody,
    shared.upstreamTimeoutMs,
    shared.idleTimeoutMs,
  );
  let clientLeft = false;
  let body: ProxyBody | undefined;
  input.onAbort(() => {
    clientLeft = true;
    if (body) body.cancel();
    else sent.abort();
  });
  if (input.aborted) sent.abort();
  shared.stats.inFlight += 1;
  let upstream: UpstreamAnswer;
  try {
    upstream = await sent.answer;
  } catch (error) {
    shared.stats.inFlight -= 1;
    shared.stats.upstreamFailures += 1;
    await release(shared, admitted);
    const kind = error instanceof UpstreamError ? error.kind : 'unreachable';
    const message = error instanceof Error ? error.message : 'the upstream failed';
    const answer = adapter.errorAnswer(STATUS_OF[kind], CODE_OF[kind], message);
    return { status: answer.status, headers: answer.headers, body: answer.body };
  }
  const ok = upstream.status < 400;
  // The provider's own error passes through as it is; nothing was used, nothing is recorded.
  if (!ok) shared.stats.upstreamFailures += 1;
  body = passThrough(
    upstream,
    ok ? adapter.observe(call) : undefined,
    shared,
    admitted,
    () => clientLeft,
  );
  if (clientLeft) body.cancel();
  if (!call.streamed && upstream.length >= 0 && upstream.length <= WHOLE_BODY_BYTES) {
    return whole(upstream, body);
  }
  return { status: upstream.status, headers: upstream.headers, body };
}

/** Unary answers up to this size are sent in one write, once complete. */
const WHOLE_BODY_BYTES = 1024 * 1024;

/**
 * A unary answer of known length, read whole before it is sent: the client then gets head and
 * body in one write. One cut short still reaches the client as a cut (its first read fails).
 */
async function whole(upstream: UpstreamAnswer, body: ProxyBody): Promise<ProxyAnswer> {
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const chunk = await body.read();
      if (chunk === null) break;
      chunks.push(chunk);
    }
  } catch (error) {
    const cut: ProxyBody = {
      read: () => Promise.reject(error),
      cancel: () => undefined,
    };
    return { status: upstream.status, headers: upstream.headers, body: cut };
  }
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  return { status: upstream.status, headers: upstream.headers, body: bytes };
}

/**
 * The client's body: each upstream chunk as it comes, read by `observer` on the way. Without an
 * observer (an error answer), the bytes pass and the call ends released.
 */
function passThrough(
  upstream: UpstreamAnswer,
  observer: UsageObserver | undefined,
  shared: Relay,
  admitted: Admitted,
  clientLeft: () => boolean,
): ProxyBody {
  let ended = false;
  const end = (how: Ending) => {
    if (ended) return;
    ended = true;
    shared.stats.inFlight -= 1;
    if (how === 'cut') shared.stats.upstreamFailures += 1;
    // After the answer's last bytes are written: the client does not wait for the ledger.
    const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      observer
        ? finish(shared, admitted, observer, how, upstream.firstChunkAt())
        : release(shared, admitted),
    );
    shared.pending.add(done);
    void done.then(() => shared.pending.delete(done));
  };
  const source = upstream.body;
  return {
    async read() {
      for (;;) {
        let chunk: Uint8Array | null;
        try {
          chunk = await source.read();
        } catch (error) {
          end(clientLeft() ? 'cancelled' : 'cut');
          throw error;
        }
        if (chunk === null) {
          end('done');
          return null;
        }
        const out = observer ? observer.push(chunk) : chunk;
        // A chunk the adapter kept entirely to itself: read on.
        if (out.byteLength > 0) return out;
      }
    },
    cancel() {
      source.cancel();
      end('cancelled');
    },
  };
}

/** Records what the answer used, once, and settles the reservation with it. */
async function finish(
  shared: Relay,
  admitted: Admitted,
  observer: UsageObserver,
  how: Ending,
  firstChunkAt: number,
): Promise<void> {
  const { adapter, call, identity } = admitted;
  let record: UsageRecord | undefined;
  try {
    const observed = observer.finish();
    const usage = observed.raw === null ? null : adapter.normalize(observed.raw);
    if (usage) {
      const metadata: Record<string, unknown> = {
        source: 'proxy',
        key: identity.keyId,
        operation: call.route.operation,
        streamed: call.streamed,
        latencyMs: round(performance.now() - admitted.receivedAt),
        ttftMs: firstChunkAt < 0 ? null : round(firstChunkAt - admitted.receivedAt),
        complete: how === 'done' && observed.complete,
      };
      if (observed.estimated) metadata.estimated = true;
      if (admitted.adapted) metadata.adapted = admitted.adapted;
      record = shared.recorder.record({
        agent: shared.agent,
        model: call.model,
        provider: CATALOG_PROVIDER[call.route.provider],
        usage,
        callId: admitted.callId,
        userId: identity.userId,
        tenantId: identity.tenantId,
        metadata,
      });
    }
  } catch (error) {
    // Strict pricing refuses an unknown model after counting it; anything else is logged.
    if (!(error instanceof Error && error.name === 'UnknownModelError')) {
      console.error('[tollgate proxy] could not record a call:', messageOf(error));
    }
  }
  if (record) {
    shared.stats.recorded += 1;
    shared.metrics?.observe(record);
  }
  const { budgets } = shared;
  const reservation = admitted.reservation;
  if (!budgets || !reservation) return;
  try {
    if (record) {
      const cost = record.cost.priced ? BigInt(record.cost.totalFemto) : admitted.estimateFemto;
      await budgets.settle(reservation, cost);
    } else if (how === 'done') {
      // A complete answer without usage was still billed: the estimate stands.
      await budgets.settle(reservation, admitted.estimateFemto);
    } else {
      await budgets.release(reservation);
    }
  } catch (error) {
    console.error('[tollgate proxy] could not settle a reservation:', messageOf(error));
  }
}

async function release(shared: Relay, admitted: Admitted): Promise<void> {
  if (!shared.budgets || !admitted.reservation) return;
  try {
    await shared.budgets.release(admitted.reservation);
  } catch (error) {
    console.error('[tollgate proxy] could not release a reservation:', messageOf(error));
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
