/** `npm run bench`: runs every benchmark and writes its figures to outputs/bench-*.json. */
import { runCoreBenchmarks } from './core.js';
import { runLangGraphBenchmark } from './langgraph.js';
import { writeResult } from './stats.js';

const core = runCoreBenchmarks();
console.log(JSON.stringify(core.result, null, 2));
console.log(`core benchmarks written to ${core.path}`);

const langgraph = await runLangGraphBenchmark();
console.log(JSON.stringify(langgraph, null, 2));
console.log(
  `LangGraph benchmark written to ${writeResult('bench-langgraph', { researchGraph: langgraph })}`,
);
