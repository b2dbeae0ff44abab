import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** A skipped snippet says why on its first line, where every reader sees it. */
const SKIP = /^\/\/ not type-checked: \S/;

interface Snippet {
  file: string;
  line: number;
  code: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'api' || entry.name.startsWith('.') ? [] : markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Every ```ts / ```typescript block of a Markdown file, with the line it starts on. */
function extractSnippets(file: string, text: string): Snippet[] {
  const snippets: Snippet[] = [];
  const fence = /^```(ts|typescript)\b[^\n]*\n([\s\S]*?)^```\s*$/gm;
  for (const match of text.matchAll(fence)) {
    const line = text.slice(0, match.index).split('\n').length;
    snippets.push({ file, line, code: match[2] ?? '' });
  }
  return snippets;
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];
const snippets = files.flatMap((file) =>
  extractSnippets(relative(root, file), readFileSync(file, 'utf8')),
);

describe('documentation snippets', () => {
  it('finds the snippets of the README and every docs page', () => {
    expect(snippets.length).toBeGreaterThan(20);
    expect(new Set(snippets.map((s) => s.file)).size).toBeGreaterThan(10);
  });

  it('extracts ts and typescript fences, with their line, and nothing else', () => {
    const text =
      '# t\n```ts\nconst a = 1;\n```\n```bash\nls\n```\n```typescript title\nlet b;\n```\n';
    expect(extractSnippets('x.md', text)).toEqual([
      { file: 'x.md', line: 2, code: 'const a = 1;\n' },
      { file: 'x.md', line: 8, code: 'let b;\n' },
    ]);
  });

  it('compiles every TypeScript snippet against the package sources (strict tsc)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-snippets-'));
    // Snippets import 'tollgate', SDKs and LangChain as a user would: resolve them here.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(join(dir, 'snippets'));
    const names = new Map<string, Snippet>();
    for (const [i, snippet] of snippets.entries()) {
      if (SKIP.test(snippet.code)) continue;
      const name = `snippets/s${i}.ts`;
      names.set(name, snippet);
      // `export {}` makes every snippet a module of its own, so their names never collide.
      writeFileSync(join(dir, name), `${snippet.code}\nexport {};\n`);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          noEmit: true,
          paths: {
            tollgate: [join(root, 'src/index.ts')],
            'tollgate/*': [join(root, 'src/*/index.ts')],
          },
        },
        include: ['snippets'],
      }),
    );
    const result = await promisify(execFile)(
      join(root, 'node_modules/.bin/tsc'),
      ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    // Name each error by its Markdown file and line, not the scratch file.
    const errors = result
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => {
        const [, name, row, rest] = /^(snippets\/s\d+\.ts)\((\d+),\d+\): (.*)$/.exec(line) ?? [];
        const snippet = name ? names.get(name) : undefined;
        return snippet ? `${snippet.file}:${snippet.line + Number(row)} ${rest}` : line;
      });
    expect(errors).toEqual([]);
  }, 180_000);
});
