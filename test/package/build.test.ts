import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; import: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('package', () => {
  it('builds, and every export in package.json points at a built file', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'tollgate-build-'));
    await promisify(execFile)(
      join(root, 'node_modules/.bin/tsc'),
      ['-p', join(root, 'tsconfig.build.json'), '--outDir', outDir],
      { cwd: root },
    );
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      for (const file of [target.types, target.import]) {
        const built = join(outDir, file.replace(/^\.\/dist\//, ''));
        expect(existsSync(built), `${subpath} → ${file}`).toBe(true);
      }
    }
    for (const [command, file] of Object.entries(pkg.bin)) {
      const built = join(outDir, file.replace(/^\.\/dist\//, ''));
      expect(existsSync(built), `bin ${command} → ${file}`).toBe(true);
    }
  }, 120_000);

  it('keeps the core free of SDK, LangChain, store and server imports', async () => {
    // Integrations, stores and the server live on subpaths that import their own libraries.
    const subpaths = [
      'gemini',
      'langgraph',
      'testing',
      'sqlite',
      'redis',
      'postgres',
      'server',
      'cli',
    ];
    const { stdout } = await promisify(execFile)(
      'grep',
      [
        '-rhoE',
        "^(import|export) [^;]*? from '[^.][^']*'",
        'src',
        '--include=*.ts',
        ...[...subpaths, 'alerts', 'otel'].map((dir) => `--exclude-dir=${dir}`),
      ],
      { cwd: root },
    );
    const imported = new Set(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => /from '([^']+)'$/.exec(line)?.[1] ?? line),
    );
    const allowed = (name: string) => name.startsWith('node:') || name in pkg.dependencies;
    expect([...imported].filter((name) => !allowed(name))).toEqual([]);
  });
});
