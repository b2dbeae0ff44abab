/**
 * The core in one file: record calls from any provider's usage object, get exact costs,
 * budget events, the console report and exports. Run: npx tsx examples/quickstart.ts
 */
import { BudgetExceededError, TokenTracker } from 'tollgate';

const tracker = new TokenTracker({ budgetLimitUsd: 0.002, warnAt: [0.5, 0.9], enforce: 'hard' });
tracker.on('budget_warning', (e) =>
  console.log(
    `warning: $${e.spentUsd.toFixed(6)} of $${e.limitUsd} (${e.utilizationPercent.toFixed(1)}%)`,
  ),
);
tracker.on('budget_exceeded', (e) => console.log(`exceeded: $${e.spentUsd.toFixed(6)}`));

// A Gemini usageMetadata, as the SDKs return it: 540 thinking tokens are billed as output.
const first = tracker.record({
  agent: 'planner',
  model: 'gemini-2.5-flash',
  usage: {
    promptTokenCount: 10,
    candidatesTokenCount: 48,
    thoughtsTokenCount: 540,
    totalTokenCount: 598,
  },
});
console.log(
  'planner call:',
  first?.cost.totalUsd,
  'USD, of which thinking',
  first?.cost.reasoningUsd,
);

// LangChain, OpenAI and Anthropic usage objects work the same way.
tracker.record({
  agent: 'researcher',
  model: 'gpt-4o-mini',
  usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 },
});
tracker.record({
  agent: 'critic',
  model: 'claude-sonnet-4-6',
  usage: { input_tokens: 20, cache_read_input_tokens: 1000, output_tokens: 50 },
});

try {
  tracker.guard('coder'); // what integrations call before each LLM call
  console.log('coder may call');
} catch (error) {
  if (BudgetExceededError.isInstance(error)) console.log(`coder refused: ${error.message}`);
}

console.log(tracker.getCostBreakdownReport());
console.log('JSON:', tracker.exportToJson());
console.log('CSV: ', tracker.exportToCsv());
