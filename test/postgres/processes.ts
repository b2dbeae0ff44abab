/** Worker processes for the Postgres tests: scripts in ./workers, run under tsx. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const WORKERS = join(import.meta.dirname, 'workers');

/** Runs a worker script as a separate Node process and resolves with its stdout. */
export function runWorker(script: string, args: string[]): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(WORKERS, script), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${script} exited ${code}: ${stderr}`)),
    );
  });
}
