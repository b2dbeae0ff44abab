import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { vi } from 'vitest';
import { TokenTracker } from '../../src/index.js';
import { isTokenFeedChunk, type TokenFeedChunk } from '../../src/langgraph/index.js';

/** Streams a graph with "values" and "custom" and returns what came out. */
export async function collect(
  graph: {
    stream(input: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  },
  input: unknown,
  config: LangGraphRunnableConfig = {},
): Promise<{ chunks: TokenFeedChunk[]; other: unknown[]; state: Record<string, unknown> }> {
  const chunks: TokenFeedChunk[] = [];
  const other: unknown[] = [];
  let state: Record<string, unknown> = {};
  for await (const item of await graph.stream(input, {
    ...config,
    streamMode: ['values', 'custom'],
  })) {
    const [mode, payload] = item as [string, unknown];
    if (mode === 'custom') {
      if (isTokenFeedChunk(payload)) chunks.push(payload);
      else other.push(payload);
    } else state = payload as Record<string, unknown>;
  }
  return { chunks, other, state };
}

/**
 * LangChain prints "Error in handler …" with console.error whenever a `raiseError` handler
 * throws (our budget refusals do, on purpose); keep test output readable.
 */
export function silenceHandlerErrors() {
  return vi.spyOn(console, 'error').mockImplementation(() => {});
}

/** Captures console.log lines. */
export function captureLog(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  return { lines, restore: () => spy.mockRestore() };
}

/** The cost tollgate charges for one call of `model` with this usage (from a scratch tracker). */
export function costOf(
  model: string,
  usage: { input_tokens: number; output_tokens: number; total_tokens: number },
): number {
  const tracker = new TokenTracker();
  return tracker.record({ model, usage, usageFormat: 'langchain' })?.cost.totalUsd ?? Number.NaN;
}

/** Statistics without the fields that depend on when they were read. */
export function stable<T extends { sessionDurationSeconds: number }>(stats: T) {
  const { sessionDurationSeconds: _duration, ...rest } = stats as T & {
    capturedAt?: number;
    sessionId?: string;
  };
  const { capturedAt: _at, sessionId: _id, ...numbers } = rest;
  return numbers;
}
