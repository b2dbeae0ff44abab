/** Without @opentelemetry/api installed, instrumentTracker does nothing and says so once. */
import { describe, expect, it, vi } from 'vitest';
import { TokenTracker } from '../../src/index.js';
import { instrumentTracker } from '../../src/otel/index.js';

// What loadOtelApi returns when the optional peer cannot be required.
vi.mock('../../src/otel/api.js', () => ({ loadOtelApi: () => undefined }));

describe('instrumentTracker without @opentelemetry/api', () => {
  it('is a no-op that warns once, and tracking works', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const tracker = new TokenTracker();
      const detach = instrumentTracker(tracker);
      instrumentTracker(tracker, { mode: 'active-span' });
      expect(
        tracker.record({
          model: 'gemini-2.5-flash',
          usage: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
        }),
      ).toBeDefined();
      detach();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(/@opentelemetry\/api is not installed/);
    } finally {
      warn.mockRestore();
    }
  });
});
