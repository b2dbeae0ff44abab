import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('examples/alerts.ts', () => {
  it('runs as a user would: two alerts arrive, one after a retry', async () => {
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules/.bin/tsx'),
      ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/alerts.ts')],
      { cwd: mkdtempSync(join(tmpdir(), 'tollgate-alerts-')), timeout: 60_000 },
    );
    expect(stdout).toMatch(/attempt 1 of \w+… → 503/);
    expect(stdout).toMatch(/attempt 2 of \w+… → "Budget warning: \$0\.09 \/ \$0\.10 \(90\.0%\)/);
    expect(stdout).toMatch(/"Budget exceeded: \$0\.12 \/ \$0\.10 \(120\.0%\)/);
    expect(stdout).toContain('2 alerts arrived in 3 requests.');
  });
});
