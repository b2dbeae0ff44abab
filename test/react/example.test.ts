import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

it('examples/budgets.ts runs: alerts, then a refused call', async () => {
  const { stdout } = await promisify(execFile)(
    join(root, 'node_modules/.bin/tsx'),
    ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/budgets.ts')],
    { cwd: mkdtempSync(join(tmpdir(), 'tollgate-example-')), timeout: 60_000 },
  );
  expect(stdout).toMatch(/alert: tenant:acme:month:\d{4}-\d\d@Europe\/Berlin at 50%/);
  expect(stdout).toMatch(/bob's call refused: Budget exceeded \(tenant:acme:month:/);
  expect(stdout).toMatch(/alice: today \$0\.0320 of \$0\.1/);
});
