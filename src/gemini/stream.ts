/**
 * Watching a stream of chunks without changing what the consumer sees.
 *
 * Gemini puts running totals on stream chunks (Vertex only on the last), so a stream is recorded
 * once, at its end, with the last usage that has counts. How a stream ends:
 * - `complete`: the source finished;
 * - `abandoned`: the consumer stopped early (`break` calls the iterator's `return()`);
 * - `failed`: the source threw midway; the usage seen so far is recorded, then the error is
 *   rethrown unchanged.
 */

export type StreamEnd = 'complete' | 'abandoned' | 'failed';

/**
 * What a stream wrapper reports. `end` runs once; it may throw only when `how !== 'failed'`.
 * It may return a promise (budgets settling): the stream's end waits for it, and a rejection
 * counts as a throw. Without one, nothing extra is awaited.
 */
export interface StreamObserver<T> {
  chunk(chunk: T): void;
  /** Runs when the consumer asks for the next chunk after `chunk` (may throw to stop). */
  resume?(): void;
  end(how: StreamEnd, error?: unknown): Promise<void> | undefined;
}

/**
 * Passes `source` through as the consumer pulls (nothing is read ahead), reporting each chunk
 * and how the stream ended. Used for @google/genai, whose stream is a plain async generator.
 *
 * @example
 * const chunks = observeStream(await ai.models.generateContentStream(params), observer);
 * for await (const chunk of chunks) if (done(chunk)) break; // observer.end('abandoned')
 */
export async function* observeStream<T>(
  source: AsyncIterable<T>,
  observer: StreamObserver<T>,
): AsyncGenerator<T, void, undefined> {
  let how: StreamEnd = 'abandoned';
  try {
    for await (const chunk of source) {
      observer.chunk(chunk);
      yield chunk;
      observer.resume?.();
    }
    how = 'complete';
  } catch (error) {
    how = 'failed';
    const ended = observer.end('failed', error);
    if (ended) await ended.catch(() => undefined);
    throw error;
  } finally {
    if (how !== 'failed') {
      const ended = observer.end(how);
      if (ended) await ended;
    }
  }
}

/** How a read-ahead stream settled: `error` is the source's (`failed`) or the observer's. */
export type Settled = { failed: boolean } & ({ ok: true } | { ok: false; error: unknown });

/**
 * Reads `source` to its end at once, reporting every chunk, and replays the chunks to the
 * consumer in order. Used for @google/generative-ai, whose SDK already downloads the whole
 * stream for its aggregated `response` promise (a `tee`), whatever the consumer does: so its
 * usage is known even when the consumer stops early, reads only `response`, or the stream
 * fails before the consumer got there. Ends are `complete` or `failed`, never `abandoned`.
 * `settled` resolves (never rejects) after `observer.end` ran.
 */
export function readAhead<T>(
  source: AsyncIterable<T>,
  observer: StreamObserver<T>,
): { stream: AsyncGenerator<T, void, undefined>; settled: Promise<Settled> } {
  const buffer: T[] = [];
  let result: Settled | undefined;
  let consumerGone = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const settled = (async (): Promise<Settled> => {
    try {
      for await (const chunk of source) {
        observer.chunk(chunk);
        if (!consumerGone) buffer.push(chunk);
        notify();
      }
    } catch (error) {
      const ended = observer.end('failed', error);
      if (ended) await ended.catch(() => undefined);
      result = { failed: true, ok: false, error };
      notify();
      return result;
    }
    try {
      const ended = observer.end('complete');
      if (ended) await ended;
      result = { failed: false, ok: true };
    } catch (error) {
      result = { failed: false, ok: false, error };
    }
    notify();
    return result;
  })();

  async function* replay(): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        if (buffer.length > 0) {
          yield buffer.shift() as T;
        } else if (result) {
          if (!result.ok) throw result.error;
          return;
        } else {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      }
    } finally {
      consumerGone = true;
      buffer.length = 0;
    }
  }

  return { stream: replay(), settled };
}
