/**
 * The cost of the automatic agent chunks (a step per node task in `runWithTracking`, the
 * automatic feed of plain streams), per model call, beside what LangGraph itself charges to
 * show a run's tasks. Measured in a child process against the build (`agent-steps-child.ts`).
 */
import { execFileSync } from 'node:child_process';

interface ChildReport {
  rounds: number;
  modelCallsPerRun: number;
  usPerModelCall: Record<
    | 'agentStepsExplicitGraph'
    | 'agentStepsBareGraph'
    | 'tasksSinkYardstick'
    | 'autoFeedPlainStream',
    number
  >;
}

export function runAgentStepsBenchmark() {
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/agent-steps-child.ts'],
    {
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.bench.json' },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const report = JSON.parse(output.trim().split('\n').at(-1) as string) as ChildReport;
  const us = report.usPerModelCall;
  return {
    what: 'research graph, trackGemini models; median per-round difference in CPU time, per model call (one node task per call)',
    rounds: report.rounds,
    modelCallsPerRun: report.modelCallsPerRun,
    runWithTracking: {
      agentStepsUsPerCall: us.agentStepsExplicitGraph,
      agentStepsWritingEveryPairUsPerCall: us.agentStepsBareGraph,
      yardstick: {
        what: 'a do-nothing sink asking LangGraph for "tasks" events: what LangGraph charges to show the tasks',
        usPerCall: us.tasksSinkYardstick,
      },
    },
    plainStream: {
      what: 'graph.stream with "custom" in tracker.run: one agent_started a task through the stream, setAutoFeed on vs off',
      autoFeedUsPerCall: us.autoFeedPlainStream,
    },
  };
}
