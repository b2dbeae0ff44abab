import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

/** Runs an example as a user would (`npx tsx examples/…`), in a scratch working directory. */
async function runExample(file: string, env: Record<string, string> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'tollgate-example-'));
  return run(
    join(root, 'node_modules/.bin/tsx'),
    ['--tsconfig', join(root, 'tsconfig.json'), join(root, file)],
    {
      cwd,
      env: { ...process.env, GEMINI_API_KEY: '', ...env },
      timeout: 60_000,
    },
  );
}

describe('examples run', () => {
  it('quickstart prints the report and writes both exports', async () => {
    const { stdout } = await runExample('examples/quickstart.ts');
    expect(stdout).toContain('TOKEN USAGE & COST REPORT');
    expect(stdout).toMatch(/coder refused: Budget exceeded/);
    expect(stdout).toMatch(/JSON: .*token_usage_\d{8}_\d{6}_\d{3}\.json/);
  });

  it('standin talks to both SDKs offline', async () => {
    const { stdout } = await runExample('examples/standin.ts');
    expect(stdout.length).toBeGreaterThan(0);
  });
});
