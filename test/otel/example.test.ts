import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('examples/otel.ts', () => {
  it('prints one span per call with the GenAI attributes', async () => {
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules/.bin/tsx'),
      ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/otel.ts')],
      { cwd: mkdtempSync(join(tmpdir(), 'tollgate-otel-')), timeout: 60_000 },
    );
    expect(stdout).toContain("name: 'generate_content gemini-2.5-flash'");
    expect(stdout).toContain("name: 'chat gpt-4o-mini'");
    expect(stdout).toContain("'gen_ai.usage.cache_read.input_tokens': 200");
    expect(stdout).toContain("'tollgate.cost.usd': 0.001306");
    expect(stdout).toContain('total: $0.001498 for 2 calls');
  });
});
