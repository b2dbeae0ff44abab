/**
 * What tracking costs per model call inside a LangGraph run, each figure beside the yardstick
 * it is judged against, all measured in one process and one run (see `langgraph-child.ts` for
 * the variants). Per-call overhead = (median run time of the variant − median of its
 * reference) / model calls per run. Also reported: the median of the per-round paired
 * differences (each round runs every variant once, so drift cancels within a round), and the
 * control (the same plain graph twice), which shows what the method reports for no difference.
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
  recorded: { handler: number; trackChatModel: number };
  times: Record<string, number[]>;
}

const us = (ns: number) => Number((ns / 1e3).toFixed(1));

/** Per-call µs of `variant` above `reference`: from the medians, and paired by round. */
function overhead(report: ChildReport, variant: string, reference: string) {
  const a = report.times[variant] ?? [];
  const b = report.times[reference] ?? [];
  const calls = report.modelCallsPerRun;
  const paired = a.map((value, i) => value - (b[i] ?? value));
  return {
    usPerCall: us((median(a) - median(b)) / calls),
    pairedUsPerCall: us(median(paired) / calls),
  };
}

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
  const perRun = (name: string) => us(median(report.times[name] ?? []) / 1); // µs a run
  const medianRunUs = Object.fromEntries(Object.keys(report.times).map((n) => [n, perRun(n)]));

  const noopFloor = overhead(report, 'langchain.noopHandler', 'langchain.plain');
  const handler = overhead(report, 'langchain.handler', 'langchain.plain');
  const handlerAboveNoop = overhead(report, 'langchain.handler', 'langchain.noopHandler');
  const wrapper = overhead(report, 'langchain.trackChatModel', 'langchain.plain');
  const gemini = overhead(report, 'gemini.tracked', 'gemini.plain');
  const floor = overhead(report, 'gemini.floor', 'gemini.plain');
  const control = overhead(report, 'gemini.plainAgain', 'gemini.plain');

  const rows = [
    {
      variant: '(a) LangChain model, no tracking',
      usPerCall: 0,
      yardstick: 'reference of (b)–(d)',
      target: '',
      pass: undefined,
    },
    {
      variant: '(b) do-nothing handler, awaited (yardstick)',
      usPerCall: noopFloor.usPerCall,
      yardstick: 'above (a)',
      target: '',
      pass: undefined,
    },
    {
      variant: '(c) TokenTrackingCallbackHandler',
      usPerCall: handler.usPerCall,
      yardstick: `${handlerAboveNoop.usPerCall} µs above (b)`,
      target: '≤ 15 µs above (b)',
      pass: handlerAboveNoop.usPerCall <= 15,
    },
    {
      variant: '(d) trackChatModel',
      usPerCall: wrapper.usPerCall,
      yardstick: `(b) costs ${noopFloor.usPerCall}`,
      target: '≤ 30 µs above (a)',
      pass: wrapper.usPerCall <= 30,
    },
    {
      variant: '(e) Gemini SDK-shaped model, no tracking',
      usPerCall: 0,
      yardstick: 'reference of (f)',
      target: '',
      pass: undefined,
    },
    {
      variant: '(f) trackGemini + runWithTracking (feed, budget)',
      usPerCall: gemini.usPerCall,
      yardstick: `floor ${floor.usPerCall}`,
      target: '≤ 30 µs above (e)',
      pass: gemini.usPerCall <= 30,
    },
  ];
  console.log(
    `\nPer model call, µs above the reference (medians of ${report.rounds} alternating rounds, ` +
      `${report.modelCallsPerRun} calls a run; control, same graph twice: ${control.usPerCall} µs):`,
  );
  console.table(
    rows.map((row) => ({
      variant: row.variant,
      'µs/call': row.usPerCall,
      yardstick: row.yardstick,
      target: row.target,
      result: row.pass === undefined ? '' : row.pass ? 'pass' : 'FAIL',
    })),
  );

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
      control,
    },
    targets: {
      handlerAboveDoNothingUs: { target: 15, pass: handlerAboveNoop.usPerCall <= 15 },
      trackChatModelUs: { target: 30, pass: wrapper.usPerCall <= 30 },
      trackGeminiUs: { target: 30, pass: gemini.usPerCall <= 30 },
    },
  };
}
