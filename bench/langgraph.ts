/**
 * Tracker overhead on the research graph (issue: LangGraph integration): the same graph run
 * with tracking (trackGemini models + runWithTracking: budget, feed, statistics) against the
 * graph without it, on an in-process fake model (no HTTP), all measured in one run.
 *
 * The rounds run in a child process against the build (see `langgraph-child.ts`). Reported:
 * medians and 10th percentiles (a run's time has a long tail from garbage collection and the
 * machine's neighbours; the 10th percentile is the steadier view of the same runs), their
 * ratios, the same ratios for an identical second plain graph (the noise floor of the method),
 * and a bootstrap 95% interval of the median ratio.
 */
import { execFileSync } from 'node:child_process';
import { median } from './stats.js';

interface ChildReport {
  rounds: number;
  modelCallsPerRun: number;
  feedChunksPerRun: number;
  floorChunks: number;
  times: Record<'plain' | 'plainAgain' | 'tracked' | 'floor', number[]>;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Deterministic xorshift, so the interval is reproducible from the same times. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** 95% bootstrap interval of median(a) / median(b), resampling each side. */
function medianRatioInterval(a: readonly number[], b: readonly number[]): [number, number] {
  const next = random(42);
  const resample = (values: readonly number[]) =>
    values.map(() => values[Math.floor(next() * values.length)] as number);
  const ratios: number[] = [];
  for (let i = 0; i < 2000; i++) ratios.push(median(resample(a)) / median(resample(b)));
  return [quantile(ratios, 0.025), quantile(ratios, 0.975)];
}

const ms = (ns: number) => Number((ns / 1e6).toFixed(3));
const ratio = (value: number) => Number(value.toFixed(3));

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
  const { plain, plainAgain, tracked, floor } = report.times;
  const medianRatio = median(tracked) / median(plain);
  const interval = medianRatioInterval(tracked, plain);
  return {
    what: 'research graph with tracking vs without, in-process fake model, no HTTP; tollgate from its build',
    rounds: report.rounds,
    modelCallsPerRun: report.modelCallsPerRun,
    feedChunksPerRun: report.feedChunksPerRun,
    medianMsWithout: ms(median(plain)),
    medianMsWith: ms(median(tracked)),
    ratio: ratio(medianRatio),
    ratio95Interval: interval.map(ratio),
    p10MsWithout: ms(quantile(plain, 0.1)),
    p10MsWith: ms(quantile(tracked, 0.1)),
    p10Ratio: ratio(quantile(tracked, 0.1) / quantile(plain, 0.1)),
    overheadMsPerRun: ms(median(tracked) - median(plain)),
    overheadUsPerModelCall: Number(
      ((median(tracked) - median(plain)) / 1e3 / report.modelCallsPerRun).toFixed(1),
    ),
    control: {
      what: 'the same plain graph measured twice: the ratio the method reports for no difference',
      ratio: ratio(median(plainAgain) / median(plain)),
      p10Ratio: ratio(quantile(plainAgain, 0.1) / quantile(plain, 0.1)),
    },
    floor: {
      what: 'yardstick, not tollgate: a minimal wrapper delivering the same chunks (priced by two constants; no normalization, exact money, statistics, history, dedupe or budget events)',
      chunksPerRun: report.floorChunks,
      ratio: ratio(median(floor) / median(plain)),
      p10Ratio: ratio(quantile(floor, 0.1) / quantile(plain, 0.1)),
    },
    targetRatio: 1.03,
    meetsTarget: medianRatio <= 1.03,
  };
}
