import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const config = join(root, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs dependency-cruiser over `src` of `cwd` with the project's rules; returns the violations. */
async function cruise(cwd: string): Promise<Violation[]> {
  const { stdout } = await promisify(execFile)(
    join(root, 'node_modules/.bin/depcruise'),
    ['src', '--config', config, '--output-type', 'json', '--no-progress'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const result = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return result.summary.violations;
}

describe('layering (ARCHITECTURE.md), checked by dependency-cruiser', () => {
  it('has no import cycles, a core free of integrations and SDKs, and integrations apart', async () => {
    const violations = await cruise(root);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 120_000);

  it('reports each kind of violation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-layering-'));
    const files: Record<string, string> = {
      'src/index.ts': "export * from './show/report.js';\n",
      'src/show/report.ts': "import '../gemini/index.js';\nexport const a = 1;\n",
      'src/gemini/index.ts': "import '../redis/index.js';\nexport const b = 2;\n",
      'src/redis/index.ts': 'export const c = 3;\n',
      'src/cli/main.ts': "import '../sqlite/index.js';\nimport '../server/index.js';\n",
      'src/sqlite/index.ts': 'export const d = 4;\n',
      'src/server/index.ts': 'export const e = 5;\n',
      'src/usage/a.ts': "import { y } from './b.js';\nexport const x = y;\n",
      'src/usage/b.ts': "import { x } from './a.js';\nexport const y = () => x;\n",
      'tsconfig.build.json': JSON.stringify({ compilerOptions: { module: 'NodeNext' } }),
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const found = (await cruise(dir)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found).toContain(
      'core-imports-no-integration: src/show/report.ts → src/gemini/index.ts',
    );
    expect(found).toContain(
      'gemini-imports-no-other-integration: src/gemini/index.ts → src/redis/index.ts',
    );
    expect(found.some((v) => v.startsWith('no-cycles: src/usage/'))).toBe(true);
    // The CLI is an application of the SQLite store and the server: allowed.
    expect(found.filter((v) => v.includes('src/cli/'))).toEqual([]);
  }, 120_000);
});
