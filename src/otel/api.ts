/**
 * Loads @opentelemetry/api, an optional peer, on first use. `require` (not `import()`) keeps
 * `instrumentTracker` synchronous; the API keeps its state on a global symbol, so this copy sees
 * the tracer provider and context manager the application registered through either build.
 */
import { createRequire } from 'node:module';

export type OtelApi = typeof import('@opentelemetry/api');

let loaded: OtelApi | null | undefined;

/** The API module, or undefined when it is not installed. */
export function loadOtelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
