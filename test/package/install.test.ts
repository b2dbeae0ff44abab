/**
 * The published package, not the repository: builds into a staging folder, packs it with
 * `npm pack`, installs the tarball into fresh projects (plain ESM JavaScript, strict TypeScript
 * with nodenext and exactOptionalPropertyTypes) together with the peers from the registry, and
 * runs a small graph through trackGemini, runWithTracking and the stand-in there.
 */
import { execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tollgate-install-'));
const app = join(work, 'app');
/** A project with tollgate alone: no peer at all. */
const bare = join(work, 'bare');

/** The version the repository itself uses, so npm can take it from its cache. */
function versionOf(name: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
  return `${name}@${pkg.version as string}`;
}

const graphProgram = (lang: 'js' | 'ts') => `
import { GoogleGenAI } from '@google/genai';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { BudgetExceededError, MissingPeerError, TokenTracker } from 'tollgate';
import { trackGemini } from 'tollgate/gemini';
import { runWithTracking, TokenUsageAnnotation } from 'tollgate/langgraph';
import { startGeminiStandIn } from 'tollgate/testing';

const standIn = await startGeminiStandIn();
try {
  const ai = trackGemini(
    new GoogleGenAI({ apiKey: 'offline', httpOptions: { baseUrl: standIn.baseUrl } }),
  );
  const State = Annotation.Root({
    ...TokenUsageAnnotation.spec,
    topic: Annotation${lang === 'ts' ? '<string>' : ''},
    answer: Annotation${lang === 'ts' ? '<string>' : ''},
  });
  const graph = new StateGraph(State)
    .addNode('planner', async (state${lang === 'ts' ? ': typeof State.State' : ''}) => {
      const reply = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Plan ' + state.topic });
      return { answer: reply.text ?? '' };
    })
    .addNode('writer', async (state${lang === 'ts' ? ': typeof State.State' : ''}) => {
      const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Write ' + state.answer });
      let text = '';
      for await (const chunk of stream) text += chunk.text ?? '';
      return { answer: text };
    })
    .addEdge(START, 'planner')
    .addEdge('planner', 'writer')
    .addEdge('writer', END)
    .compile();
  const tracker = new TokenTracker();
  const result = await runWithTracking(graph, { topic: 'RAG' }, { tracker, budgetLimitUsd: 1, reportPath: false, printReport: false });
  const stats = result.tokenUsageStats;
  let sqlite = 'not tried';
  ${
    // TypeScript users of tollgate/sqlite install @types/better-sqlite3 with it: its types are in the API.
    lang === 'js'
      ? `try {
    const { createSqliteStore } = await import('tollgate/sqlite');
    createSqliteStore({ path: ':memory:' });
    sqlite = 'loaded';
  } catch (error) {
    sqlite = MissingPeerError.isInstance(error) ? error.install : String(error);
  }`
      : 'void MissingPeerError;'
  }
  console.log(JSON.stringify({
    calls: stats.totalCalls,
    agents: Object.keys(stats.byAgent).sort(),
    costUsd: stats.totalCostUsd,
    same: tracker.getStatistics().totalCostUsdExact === stats.totalCostUsdExact,
    errors: typeof BudgetExceededError.isInstance,
    sqlite,
  }));
} finally {
  await standIn.close();
}
`;

async function npm(args: string[], cwd: string) {
  return run('npm', args, { cwd, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 });
}

beforeAll(async () => {
  // Stage what `npm pack` would publish from a fresh build, without touching the checkout.
  const stage = join(work, 'stage');
  mkdirSync(stage);
  await run(join(root, 'node_modules/.bin/tsc'), [
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    join(stage, 'dist'),
  ]);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  delete pkg.scripts; // prepack would rebuild into the checkout
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
    copyFileSync(join(root, file), join(stage, file));
  }
  const { stdout } = await npm(['pack', '--pack-destination', work, '--json'], stage);
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];

  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  await npm(
    [
      'install',
      join(work, filename),
      versionOf('@google/genai'),
      versionOf('@langchain/langgraph'),
      versionOf('@langchain/core'),
      versionOf('typescript'),
      versionOf('@types/node'),
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
    ],
    app,
  );
  mkdirSync(bare);
  writeFileSync(
    join(bare, 'package.json'),
    JSON.stringify({ name: 'bare', private: true, type: 'module' }),
  );
  await npm(['install', join(work, filename), '--prefer-offline', '--no-audit', '--no-fund'], bare);
}, 600_000);

/** Each subpath used without its peer: what the user reads (the install command, or "ok"). */
const peerProgram = `
const outcome = {};
async function attempt(name, use) {
  try {
    await use();
    outcome[name] = 'ok';
  } catch (error) {
    outcome[name] = error && error.name === 'MissingPeerError' && error.constructor.isInstance(error)
      ? error.install + ' | ' + error.message
      : 'other: ' + (error && (error.code || error.message));
  }
}
await attempt('core', () => import('tollgate'));
await attempt('gemini', () => import('tollgate/gemini'));
await attempt('testing', () => import('tollgate/testing'));
await attempt('langgraph', () => import('tollgate/langgraph'));
await attempt('sqlite', async () => (await import('tollgate/sqlite')).createSqliteStore({ path: ':memory:' }));
await attempt('redis', async () => (await import('tollgate/redis')).createRedisStore({ url: 'redis://127.0.0.1:1' }));
await attempt('postgres', async () => (await import('tollgate/postgres')).createPostgresStore({ connectionString: 'postgres://127.0.0.1:1/ledger' }));
await attempt('metrics', async () => (await import('tollgate/server')).createMetrics());
await attempt('jwt', async () => {
  const { MemoryStore } = await import('tollgate');
  const { createHandler } = await import('tollgate/server');
  createHandler({ store: new MemoryStore(), auth: { jwt: { secret: 'a secret of 16+ characters' } } });
});
const proxyOptions = async (extra) => {
  const { MemoryStore } = await import('tollgate');
  return { store: new MemoryStore(), passThrough: true, upstreams: { gemini: {} }, ...extra };
};
// Without undici the gateway calls upstreams over node:http; asked for undici, it names it.
await attempt('proxy', async () => (await import('tollgate/proxy')).createProxy(await proxyOptions({})));
await attempt('undici', async () => (await import('tollgate/proxy')).createProxy(await proxyOptions({ upstreamClient: 'undici' })));
await attempt('email', async () => (await import('tollgate/alerts')).emailChannel({ transport: 'smtp://127.0.0.1:1', from: 'a@example.com', to: 'b@example.com' }));
console.log(JSON.stringify(outcome));
`;

describe('the packed tarball, installed in a fresh project', () => {
  it('ships the build, the license and no source maps, and compiles nothing on install', () => {
    const installed = join(app, 'node_modules/tollgate');
    const files = readdirSync(installed, { recursive: true }).map(String);
    expect(files).toContain('LICENSE');
    expect(files).toContain(join('dist', 'index.js'));
    const own = files.filter((file) => !file.startsWith('node_modules'));
    expect(own.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(own.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    // better-sqlite3 is an optional peer: installing tollgate for Gemini and LangGraph builds no native code.
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(false);
  });

  it('runs a graph through trackGemini, runWithTracking and the stand-in (plain ESM JavaScript)', async () => {
    writeFileSync(join(app, 'graph.mjs'), graphProgram('js'));
    const { stdout } = await run(process.execPath, ['graph.mjs'], { cwd: app, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
    expect(result).toMatchObject({
      calls: 2,
      agents: ['planner', 'writer'],
      same: true,
      errors: 'function',
      sqlite: 'npm install better-sqlite3',
    });
    expect(result.costUsd).toBeGreaterThan(0);
  }, 120_000);

  it('type-checks under strict nodenext with exactOptionalPropertyTypes, and runs the same', async () => {
    writeFileSync(join(app, 'graph.ts'), graphProgram('ts'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        files: ['graph.ts'],
      }),
    );
    const output = await run(join(app, 'node_modules/.bin/tsc'), ['-p', '.', '--pretty', 'false'], {
      cwd: app,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    // The peers' own declarations are theirs to fix; tollgate's and the program's must be clean.
    const ours = output
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .filter((line) => line.startsWith('graph.ts') || line.includes('node_modules/tollgate/'));
    expect(ours).toEqual([]);
    const { stdout } = await run(process.execPath, ['out/graph.js'], { cwd: app, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({
      calls: 2,
      same: true,
    });
  }, 300_000);

  it('says exactly what to install, with a MissingPeerError, for each subpath used without its peer', async () => {
    writeFileSync(join(bare, 'peers.mjs'), peerProgram);
    const { stdout } = await run(process.execPath, ['peers.mjs'], { cwd: bare, timeout: 60_000 });
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>;
    const install = (name: string) => outcome[name]?.split(' | ')[0];
    expect({ core: outcome.core, gemini: outcome.gemini, testing: outcome.testing }).toEqual({
      core: 'ok',
      gemini: 'ok',
      testing: 'ok',
    });
    expect(install('langgraph')).toBe('npm install @langchain/langgraph @langchain/core');
    expect(outcome.langgraph).toContain(
      'tollgate/langgraph needs the @langchain/langgraph and @langchain/core packages',
    );
    expect(install('sqlite')).toBe('npm install better-sqlite3');
    expect(install('redis')).toBe('npm install ioredis');
    expect(install('postgres')).toBe('npm install pg');
    expect(install('metrics')).toBe('npm install prom-client');
    expect(install('email')).toBe('npm install nodemailer');
    expect(install('jwt')).toBe('npm install jose');
    expect(outcome.proxy).toBe('ok');
    expect(install('undici')).toBe('npm install undici');
  }, 120_000);

  it('names only the missing LangChain package when the other one is installed', async () => {
    // @langchain/core alone (the repository's copy): only @langchain/langgraph is to install.
    mkdirSync(join(bare, 'node_modules/@langchain'), { recursive: true });
    symlinkSync(
      join(root, 'node_modules/@langchain/core'),
      join(bare, 'node_modules/@langchain/core'),
      'dir',
    );
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await import('tollgate/langgraph').then(() => console.log('ok'), (e) => console.log(e.install))",
      ],
      { cwd: bare, timeout: 60_000 },
    );
    expect(stdout.trim()).toBe('npm install @langchain/langgraph');
  }, 120_000);

  it('tollgate serve says what is missing before it starts, and runs without prom-client', async () => {
    const bin = join(app, 'node_modules/.bin/tollgate');
    const missing = await run(bin, ['serve', '--port', '0', '--db', join(work, 'a.db')], {
      cwd: app,
      timeout: 30_000,
    }).then(
      () => 'started',
      (error: { code?: number; stderr?: string }) => `${error.code} ${error.stderr}`,
    );
    expect(missing).toMatch(/^1 tollgate serve: tollgate\/sqlite needs the better-sqlite3 package/);
    expect(missing).toContain('npm install better-sqlite3');

    // With better-sqlite3 alone (the repository's, already built), it serves without /metrics.
    symlinkSync(
      join(root, 'node_modules/better-sqlite3'),
      join(app, 'node_modules/better-sqlite3'),
      'dir',
    );
    const child = spawn(bin, ['serve', '--port', '0', '--db', join(work, 'b.db')], { cwd: app });
    let stdout = '';
    const url = await new Promise<string>((done, fail) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const at = /dashboard and API on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
        if (at && stdout.includes('/metrics is off')) done(at[1] ?? '');
      });
      child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${stdout}`)));
    });
    try {
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      expect(stdout).toContain('/metrics is off: npm install prom-client to serve it');
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});
