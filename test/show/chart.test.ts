import { describe, expect, it } from 'vitest';
import { TokenTracker } from '../../src/account/tracker.js';
import { costBreakdownSvg } from '../../src/show/chart.js';

describe('costBreakdownSvg', () => {
  it('draws one bar per agent and per model, scaled to the costliest', () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1 });
    const usage = (prompt: number) => ({
      promptTokenCount: prompt,
      candidatesTokenCount: 0,
      totalTokenCount: prompt,
    });
    tracker.record({ agent: 'planner <A&B>', model: 'gemini-2.0-flash-lite', usage: usage(2_000) });
    tracker.record({ agent: 'coder', model: 'gemini-2.0-flash-lite', usage: usage(1_000) });
    const svg = costBreakdownSvg(tracker.getStatistics());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('planner &#60;A&#38;B&#62;');
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(widths).toEqual([380, 190, 380]); // planner, coder, then the one model
    expect(svg).toMatch(/budget \$1\.00 \(0\.0%\)/);
  });

  it('says so when nothing was recorded', () => {
    expect(costBreakdownSvg(new TokenTracker().getStatistics())).toContain('no calls recorded');
  });
});
