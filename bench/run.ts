/**
 * `npm run bench`: runs every benchmark, in this one process and run, and writes the figures
 * to outputs/bench-*.json. `npm run bench -- core langgraph` runs only the named groups.
 */
import { runAgentStepsBenchmark } from './agent-steps.js';
import { runCoreBenchmarks } from './core.js';
import { runLangGraphBenchmark } from './langgraph.js';
import { runProxyBenchmark } from './proxy.js';
import { runServerBenchmark } from './server.js';
import { runExhaustionBenchmark } from './server-exhaustion.js';
import { writeResult } from './stats.js';
import { runPostgresBenchmarks } from './stores-postgres.js';
import { runRedisBenchmarks } from './stores-redis.js';
import { runSqliteBenchmarks } from './stores-sqlite.js';

const groups: Record<string, () => Promise<string>> = {
  core: async () => {
    const core = runCoreBenchmarks();
    console.log(JSON.stringify(core.result, null, 2));
    return core.path;
  },
  langgraph: async () => {
    const result = await runLangGraphBenchmark(); // prints its table
    return writeResult('bench-langgraph', { perModelCall: result });
  },
  'agent-steps': async () => {
    const result = runAgentStepsBenchmark();
    console.log(JSON.stringify(result, null, 2));
    return writeResult('bench-agent-steps', { agentSteps: result });
  },
  stores: async () => {
    const sqlite = await runSqliteBenchmarks();
    console.log(JSON.stringify(sqlite, null, 2));
    const redis = await runRedisBenchmarks();
    console.log(JSON.stringify(redis, null, 2));
    return writeResult('bench-stores', { sqlite, ...redis });
  },
  postgres: async () => {
    const postgres = await runPostgresBenchmarks();
    console.log(JSON.stringify(postgres, null, 2));
    return writeResult('bench-postgres', postgres);
  },
  'server-postgres': async () => {
    const server = await runServerBenchmark('postgres');
    console.log(JSON.stringify(server, null, 2));
    return writeResult('bench-server-postgres', { summaryLoad: server });
  },
  proxy: async () => {
    const proxy = await runProxyBenchmark();
    console.log(JSON.stringify(proxy, null, 2));
    return writeResult('bench-proxy', proxy);
  },
  server: async () => {
    const server = await runServerBenchmark();
    console.log(JSON.stringify(server, null, 2));
    const exhaustion = await runExhaustionBenchmark();
    console.log(JSON.stringify(exhaustion, null, 2));
    return writeResult('bench-server', { summaryLoad: server, exhaustion });
  },
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  console.log(`written to ${await run()}`);
}
