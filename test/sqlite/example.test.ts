import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './support.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let folder: ReturnType<typeof tempDir>;
beforeEach(() => {
  folder = tempDir('tollgate-example-ledger-');
});
afterEach(() => folder.remove());

/** Runs examples/ledger.ts as a user would, in a scratch working directory. */
function runLedgerExample() {
  return run(
    join(root, 'node_modules/.bin/tsx'),
    ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/ledger.ts')],
    { cwd: folder.dir, env: { ...process.env, TOLLGATE_DB: '' }, timeout: 60_000 },
  );
}

describe('examples/ledger.ts', () => {
  it('prints summaries by user, model and day; a rerun adds nothing', async () => {
    const first = await runLedgerExample();
    expect(first.stdout).toContain('Cost by user');
    expect(first.stdout).toContain('2026-11-21T05:00:00.000Z     30 calls');
    expect(first.stdout).toMatch(/Ledger total: 90 calls/);
    expect(first.stdout).toMatch(/Resumed session [0-9a-f]{8}: 90 new calls/);
    const second = await runLedgerExample();
    expect(second.stdout).toMatch(/Ledger total: 90 calls/);
    expect(second.stdout).toMatch(/: 0 new calls/);
  }, 60_000);
});
