/**
 * One admitted call, upstream and back: the upstream answer passes to the client chunk by chunk
 * as it arrives (nothing is buffered), its usage is read on the side, and when it ends (done,
 * cut short, or abandoned by the client) the call is recorded once and its reservation settled
 * with the exact cost, or released when nothing was used.
 */
import type { UsageRecord } from '../account/record.js';
import { FRESH_CALL_ID, type RecordInput } from '../account/record.js';
import type { TokenTracker } from '../account/tracker.js';
import type { BudgetManager } from '../react/budgets/manager.js';
import type { Reservation } from '../react/budgets/types.js';
import type { MetricsRegistry } from '../server/metrics.js';
import type { ProxyStats } from './handler.js';
import type { ProxyIdentity } from './keys.js';
import type { PreparedCall, ProviderAdapter, UsageObserver } from './provider.js';

/** What every relayed call shares. */
export interface Relay {
  tracker: TokenTracker;
  budgets: BudgetManager | undefined;
  metrics: MetricsRegistry | undefined;
  agent: string;
  stats: ProxyStats;
  upstreamTimeoutMs: number;
  idleTimeoutMs: number;
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
  adapted: { from: string; to: string } | undefined;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
}

/** How the upstream answer ended. */
type Ending = 'done' | 'cut' | 'cancelled';

/** Response headers that describe the upstream connection, not the body the client receives. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'set-cookie',
]);

function responseHeaders(upstream: Response): Headers {
  const headers = new Headers();
  upstream.headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) headers.set(name, value);
  });
  return headers;
}

/**
 * Forwards the call and answers the client with the upstream's answer, as it arrives. Never
 * rejects: every upstream failure becomes the provider's own error answer.
 */
export async function relay(
  shared: Relay,
  admitted: Admitted,
  url: string,
  headers: Headers,
  clientSignal: AbortSignal,
): Promise<Response> {
  const { adapter, call } = admitted;
  const controller = new AbortController();
  const onClientAbort = () => controller.abort();
  clientSignal.addEventListener('abort', onClientAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, shared.upstreamTimeoutMs);
  shared.stats.inFlight += 1;
  let upstream: Response;
  try {
    upstream = await fetch(url, {
      method: 'POST',
      headers,
      body: call.upstreamBody,
      signal: controller.signal,
    });
  } catch (error) {
    clearTimeout(timer);
    clientSignal.removeEventListener('abort', onClientAbort);
    shared.stats.inFlight -= 1;
    shared.stats.upstreamFailures += 1;
    await release(shared, admitted);
    const reason = timedOut
      ? `the upstream did not answer within ${shared.upstreamTimeoutMs} ms`
      : clientSignal.aborted
        ? 'the client went away'
        : `the upstream could not be reached (${causeOf(error)})`;
    const answer = adapter.errorAnswer(
      timedOut ? 504 : clientSignal.aborted ? 499 : 502,
      timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE',
      reason,
    );
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  }
  clearTimeout(timer);
  const body = upstream.body;
  if (!upstream.ok || !body) {
    // The provider's own error passes through as it is; nothing was used, nothing is recorded.
    shared.stats.upstreamFailures += upstream.ok ? 0 : 1;
    const observer = upstream.ok ? adapter.observe(call) : undefined;
    return new Response(
      passThrough(body, observer, shared, admitted, controller, clientSignal, onClientAbort),
      { status: upstream.status, headers: responseHeaders(upstream) },
    );
  }
  return new Response(
    passThrough(
      body,
      adapter.observe(call),
      shared,
      admitted,
      controller,
      clientSignal,
      onClientAbort,
    ),
    { status: upstream.status, headers: responseHeaders(upstream) },
  );
}

/**
 * The client's body: each upstream chunk as it comes, read by `observer` on the way. Without an
 * observer (an error answer), the bytes pass and the call ends released.
 */
function passThrough(
  body: ReadableStream<Uint8Array> | null,
  observer: UsageObserver | undefined,
  shared: Relay,
  admitted: Admitted,
  controller: AbortController,
  clientSignal: AbortSignal,
  onClientAbort: () => void,
): ReadableStream<Uint8Array> {
  let firstByteAt = -1;
  let ended = false;
  const reader = body?.getReader();
  const end = (how: Ending) => {
    if (ended) return;
    ended = true;
    clearTimeout(idleTimer);
    clientSignal.removeEventListener('abort', onClientAbort);
    shared.stats.inFlight -= 1;
    if (how === 'cut') shared.stats.upstreamFailures += 1;
    if (!observer) {
      void release(shared, admitted);
      return;
    }
    void finish(shared, admitted, observer, how, firstByteAt);
  };
  // The silence allowed between two chunks; each chunk re-arms it.
  const idleTimer = setTimeout(() => controller.abort(), shared.idleTimeoutMs);
  return new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        if (!reader) {
          out.close();
          end('done');
          return;
        }
        try {
          const { done, value } = await reader.read();
          if (done) {
            out.close();
            end('done');
            return;
          }
          idleTimer.refresh();
          if (firstByteAt < 0) firstByteAt = performance.now();
          const bytes = observer ? observer.push(value) : value;
          if (bytes.byteLength > 0) out.enqueue(bytes);
        } catch (error) {
          end(clientSignal.aborted ? 'cancelled' : 'cut');
          // The client sees the answer end abruptly, as the upstream's did.
          out.error(error);
        }
      },
      async cancel() {
        controller.abort();
        end('cancelled');
        await reader?.cancel().catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Records what the answer used, once, and settles the reservation with it. */
async function finish(
  shared: Relay,
  admitted: Admitted,
  observer: UsageObserver,
  how: Ending,
  firstByteAt: number,
): Promise<void> {
  const { adapter, call, identity } = admitted;
  let record: UsageRecord | undefined;
  try {
    const observed = observer.finish();
    const usage = observed.raw === null ? null : adapter.normalize(observed.raw);
    if (usage) {
      const endedAt = performance.now();
      const metadata: Record<string, unknown> = {
        source: 'proxy',
        key: identity.keyId,
        operation: call.route.operation,
        streamed: call.streamed,
        latencyMs: round(endedAt - admitted.receivedAt),
        ttftMs: firstByteAt < 0 ? null : round(firstByteAt - admitted.receivedAt),
        complete: how === 'done' && observed.complete,
      };
      if (admitted.adapted) metadata.adapted = admitted.adapted;
      const input: RecordInput = {
        agent: shared.agent,
        model: call.model,
        usage,
        callId: admitted.callId,
        metadata,
      };
      if (identity.userId !== undefined) input.userId = identity.userId;
      if (identity.tenantId !== undefined) input.tenantId = identity.tenantId;
      (input as { [FRESH_CALL_ID]?: boolean })[FRESH_CALL_ID] = true;
      record = shared.tracker.record(input);
    }
  } catch (error) {
    // An unpriced model under strict pricing is still recorded; anything else is logged.
    if (!(error instanceof Error && error.name === 'UnknownModelError')) {
      console.error(
        '[tollgate proxy] could not record a call:',
        error instanceof Error ? error.message : error,
      );
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
    console.error(
      '[tollgate proxy] could not settle a reservation:',
      error instanceof Error ? error.message : error,
    );
  }
}

async function release(shared: Relay, admitted: Admitted): Promise<void> {
  if (!shared.budgets || !admitted.reservation) return;
  try {
    await shared.budgets.release(admitted.reservation);
  } catch (error) {
    console.error(
      '[tollgate proxy] could not release a reservation:',
      error instanceof Error ? error.message : error,
    );
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : 'unknown error';
}
