/**
 * What tracking costs per model call inside a LangGraph run, each figure beside the yardstick
 * it is judged against, all measured in one process and one run (see `langgraph-child.ts` for
 * the variants). Per-call overhead = (median run time of the variant − median of its
 * reference) / model calls per run. Also reported: the median of the per-round paired
 * differences (each round runs every variant once, so drift cancels within a round), and the
 * control (the same plain graph twice), which shows what the method reports for no difference.
 *
 * Each run is timed twice: wall time, and the CPU time the process used (all its threads). On a
 * machine shared with other busy processes, wall time also counts the time spent waiting for a
 * core, which swamps differences of a few µs a call; CPU time does not, but it counts V8's
 * background threads (GC, compiler), which spread it more than wall time on an idle machine.
 * Targets are judged on the CPU-time paired median; all four figures are kept.
 *
 * Targets (issue 12):
 * - tollgate's handler ≤ 15 µs a call above a do-nothing awaited handler attached the same way;
 * - `trackChatModel` ≤ 30 µs a call above the untracked LangChain model;
 * - `trackGemini` (with `runWithTracking`, its feed and budget) ≤ 30 µs a call above the plain
 *   Gemini-shaped model, printed beside the floor yardstick.
 */
import { execFileSync } from 'node:child_process';
import { median } from './stats.js';

interface ChildReport {
  rounds: number;
  warmup: number;
  modelCallsPerRun: number;
  feedChunksPerRun: number;
  floorChunks: number;
  recorded: { handler: number; trackChatModel: number; trackGemini: number };
  times: Record<string, number[]>;
  cpuTimes: Record<string, number[]>;
}

const us = (ns: number) => Number((ns / 1e3).toFixed(1));

/**
 * Per-call µs of `variant` above `reference`, in wall time and in the process's CPU time: from
 * the medians, and as the median of the per-round paired differences (each round runs every
 * variant once, so drift cancels within a round).
 */
function overhead(report: ChildReport, variant: string, reference: string) {
  const calls = report.modelCallsPerRun;
  const of = (times: Record<string, number[]>) => {
    const a = times[variant] ?? [];
    const b = times[reference] ?? [];
    const paired = a.map((value, i) => value - (b[i] ?? value));
    return { median: us((median(a) - median(b)) / calls), paired: us(median(paired) / calls) };
  };
  const wall = of(report.times);
  const cpu = of(report.cpuTimes);
  return {
    wallUsPerCall: wall.median,
    wallPairedUsPerCall: wall.paired,
    cpuUsPerCall: cpu.median,
    cpuPairedUsPerCall: cpu.paired,
  };
}

/** The figure a target is judged on: CPU time, paired by round (see the module comment). */
const judged = (o: ReturnType<typeof overhead>) => o.cpuPairedUsPerCall;

export async function runLangGraphBenchmark() {
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/langgraph-child.ts'],
    {
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.bench.json' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const report = JSON.parse(output.trim().split('\n').at(-1) as string) as ChildReport;
  const medianRunUs = Object.fromEntries(
    Object.keys(report.times).map((name) => [
      name,
      { wall: us(median(report.times[name] ?? [])), cpu: us(median(report.cpuTimes[name] ?? [])) },
    ]),
  );

  const noopFloor = overhead(report, 'langchain.noopHandler', 'langchain.plain');
  const handler = overhead(report, 'langchain.handler', 'langchain.plain');
  const handlerAboveNoop = overhead(report, 'langchain.handler', 'langchain.noopHandler');
  const wrapper = overhead(report, 'langchain.trackChatModel', 'langchain.plain');
  const gemini = overhead(report, 'gemini.tracked', 'gemini.plain');
  const floor = overhead(report, 'gemini.floor', 'gemini.plain');
  const control = overhead(report, 'gemini.plainAgain', 'gemini.plain');
  const geminiAlone = overhead(report, 'gemini.trackedInvoke', 'gemini.plain');
  const tasksEvents = overhead(report, 'gemini.tasksSink', 'gemini.plain');
  const targets = {
    handlerAboveDoNothing: { targetUs: 15, measuredUs: judged(handlerAboveNoop) },
    trackChatModel: { targetUs: 30, measuredUs: judged(wrapper) },
    trackGemini: { targetUs: 30, measuredUs: judged(gemini) },
  };
  const verdict = (t: { targetUs: number; measuredUs: number }) =>
    t.measuredUs <= t.targetUs ? 'pass' : 'FAIL';
  const row = (
    variant: string,
    o: ReturnType<typeof overhead> | undefined,
    yardstick = '',
    aboveYardstick: ReturnType<typeof overhead> | undefined = undefined,
    target = '',
    result = '',
  ) => ({
    variant,
    'CPU µs/call': o ? judged(o) : 0,
    'wall µs/call': o ? o.wallUsPerCall : 0,
    yardstick,
    'CPU µs above it': aboveYardstick ? judged(aboveYardstick) : '',
    target,
    result,
  });
  console.log(
    `\nPer model call, µs above the untracked reference ((a) or (e)): CPU time (median of the ` +
      `per-round paired differences) and wall time (medians); ${report.rounds} alternating rounds, ` +
      `${report.modelCallsPerRun} calls a run. Targets are judged on the CPU figure above each ` +
      `yardstick. Control (same graph twice): CPU ${judged(control)}, wall ${control.wallUsPerCall}.`,
  );
  console.table([
    row('(a) LangChain model, no tracking', undefined, 'reference of (b)–(d)'),
    row('(b) do-nothing handler, awaited', noopFloor, 'yardstick of (c)'),
    row(
      '(c) TokenTrackingCallbackHandler',
      handler,
      '(b)',
      handlerAboveNoop,
      '≤ 15',
      verdict(targets.handlerAboveDoNothing),
    ),
    row('(d) trackChatModel', wrapper, '(a)', wrapper, '≤ 30', verdict(targets.trackChatModel)),
    row('(e) Gemini SDK-shaped model, no tracking', undefined, 'reference of (f)–(i)'),
    row(
      '(f) trackGemini + runWithTracking',
      gemini,
      `(e); floor (g) = ${judged(floor)}`,
      gemini,
      '≤ 30',
      verdict(targets.trackGemini),
    ),
    row('(g) floor: same feed, hard-coded prices', floor, 'yardstick shown beside (f)'),
    row('(h) trackGemini alone, graph.invoke', geminiAlone, '(e); run as (c) and (d) are'),
    row(
      "(i) LangGraph's tasks events, no-op sink",
      tasksEvents,
      'what per-node steps in (f) rest on',
    ),
  ]);

  return {
    what: 'per-model-call overhead in the research graph (13 calls, one streamed), in-process instant models, tollgate from its build',
    rounds: report.rounds,
    warmupRounds: report.warmup,
    modelCallsPerRun: report.modelCallsPerRun,
    feedChunksPerRun: report.feedChunksPerRun,
    floorChunksPerRun: report.floorChunks,
    callsRecorded: report.recorded,
    medianRunUs,
    perCallUs: {
      doNothingHandler: noopFloor,
      handler,
      handlerAboveDoNothing: handlerAboveNoop,
      trackChatModel: wrapper,
      trackGemini: gemini,
      geminiFloor: floor,
      trackGeminiAlone: geminiAlone,
      langGraphTasksEvents: tasksEvents,
      control,
    },
    targets: Object.fromEntries(
      Object.entries(targets).map(([name, t]) => [
        name,
        { ...t, pass: t.measuredUs <= t.targetUs },
      ]),
    ),
  };
}
