import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const typedoc = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as {
  entryPoints: string[];
  treatWarningsAsErrors: boolean;
  validation: { notDocumented: boolean };
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string }>;
};

describe('API reference', () => {
  it('covers the entry point of every subpath in package.json exports', () => {
    const subpaths = Object.entries(pkg.exports)
      .filter(([, target]) => typeof target !== 'string')
      .map(([subpath]) => (subpath === '.' ? 'src/index.ts' : `src/${subpath.slice(2)}/index.ts`));
    expect([...typedoc.entryPoints].sort()).toEqual(subpaths.sort());
    expect(typedoc.treatWarningsAsErrors).toBe(true);
    expect(typedoc.validation.notDocumented).toBe(true);
  });

  it('builds from the TSDoc with warnings as errors: every public export is documented', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tollgate-api-'));
    const result = await promisify(execFile)(
      join(root, 'node_modules/.bin/typedoc'),
      ['--out', out, '--logLevel', 'Warn'],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    // Name what failed: the undocumented exports, one per line.
    expect(result).toBe('');
    expect(existsSync(join(out, 'index.md'))).toBe(true);
  }, 240_000);
});
