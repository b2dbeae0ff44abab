/** Runs the CLI in process with captured streams. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/run.js';

export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  now: number,
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const code = await main(args, { stdout, stderr, env, now: () => now });
  return { code, out, err };
}
