import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('examples/budgets-gemini.ts', () => {
  it('runs offline: a refused call, an adapted planner, an alert', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tollgate-example-'));
    const { stdout } = await run(
      join(root, 'node_modules/.bin/tsx'),
      ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/budgets-gemini.ts')],
      { cwd, env: { ...process.env, GEMINI_API_KEY: '' }, timeout: 60_000 },
    );
    expect(stdout).toMatch(/call \d+: not sent \(Budget exceeded \(user:alice:day:/);
    expect(stdout).toContain(
      '[budget_adapted] Budget low: switching planner from gemini-2.5-pro to gemini-2.5-flash',
    );
    expect(stdout).toContain('[budget_alert] Budget alert: tenant acme monthly budget at 50%');
    expect(stdout).toContain('models used: gemini-2.5-flash\n');
    expect(stdout).toContain('$0 held');
  });
});
