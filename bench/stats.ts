import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Runs `fn` `rounds` times and returns each round's duration in nanoseconds. */
export function timeRounds(rounds: number, fn: () => void): number[] {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start));
  }
  return times;
}

export function machine() {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
}

/** Writes a benchmark result to outputs/<name>.json and returns the path. */
export function writeResult(name: string, result: unknown): string {
  const path = resolve('outputs', `${name}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ measuredAt: new Date().toISOString(), machine: machine(), ...(result as object) }, null, 2)}\n`,
  );
  return path;
}
