import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { PAPERS, searchPapers } from '../../examples/research/corpus.js';
import { citedPapers, slugify } from '../../examples/research/graph.js';
import { ledgerReportCommand, runWorkflow } from '../../examples/research/run.js';
import { BudgetExceededError, femtoToDecimal, type UsageExport } from '../../src/index.js';
import { createSqliteStore } from '../../src/sqlite/index.js';

const root = resolve(import.meta.dirname, '../..');
const outputDir = () => mkdtempSync(join(tmpdir(), 'tollgate-research-'));
const quietly = <T>(fn: () => Promise<T>) => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  return fn().finally(() => log.mockRestore());
};

describe('research workflow, offline through the real SDK and the Gemini stand-in', () => {
  it('runs every agent, tiers the models, and writes the report, the JSON and the chart', async () => {
    const dir = outputDir();
    const result = await quietly(() =>
      runWorkflow('RAG systems', { apiKey: '', outputDir: dir, streamOutput: false }),
    );
    const stats = result.tokenUsageStats;
    expect(result.offline).toBe(true);
    expect(Object.keys(stats.byAgent).sort()).toEqual(
      ['coder', 'critic', 'planner', 'researcher', 'synthesizer', 'tester'].sort(),
    );
    // planner 1, researcher 5 (one per subtask), coder/tester/critic twice (one revision), synthesizer 1
    expect(stats.byAgent.researcher?.calls).toBe(5);
    expect(stats.byAgent.coder?.calls).toBe(2);
    expect(stats.totalCalls).toBe(13);
    expect(stats.byModel['gemini-2.5-flash-lite']?.calls).toBe(7); // researcher + tester
    expect(stats.byModel['gemini-2.5-flash']?.calls).toBe(6);
    expect(stats.reasoningTokens).toBeGreaterThan(0); // 2.5 models think
    const agentSum = Object.values(stats.byAgent).reduce((sum, a) => sum + a.costUsd, 0);
    expect(agentSum).toBeCloseTo(stats.totalCostUsd, 12);

    expect(result.reportPath).toBe(join(dir, 'report_rag_systems.md'));
    expect(readFileSync(result.reportPath, 'utf8')).toMatch(/^# RAG systems: research report/);
    // Each paper once in the report, and every one about the topic.
    const report = readFileSync(result.reportPath, 'utf8');
    const cited = [...report.matchAll(/^- (.+?): informs /gm)].map((m) => m[1]);
    expect(cited.length).toBeGreaterThanOrEqual(5);
    expect(new Set(cited).size).toBe(cited.length);
    for (const title of cited) {
      const paper = PAPERS.find((p) => p.title === title);
      expect(`${paper?.title} ${paper?.abstract} ${paper?.keywords?.join(' ')}`).toMatch(
        /\brag\b|retrieval/i,
      );
    }
    const exported = JSON.parse(readFileSync(result.tokenUsagePath, 'utf8')) as UsageExport;
    expect(exported.statistics.totalCostUsdExact).toBe(stats.totalCostUsdExact);
    expect(exported.usageHistory).toHaveLength(13);
    expect(readFileSync(result.chartPath, 'utf8')).toContain('Cost by agent');

    // Every call landed in the embedded SQLite ledger, to the femto-dollar.
    expect(result.ledgerPath).toBe(join(dir, 'tollgate.db'));
    const ledger = createSqliteStore({ path: result.ledgerPath as string });
    try {
      const [total] = await ledger.summarize({ groupBy: 'none' });
      expect(total?.calls).toBe(13);
      expect(femtoToDecimal(total?.costFemto ?? -1n)).toBe(stats.totalCostUsdExact);
    } finally {
      await ledger.close();
    }
  });

  it('puts budget warnings and the exceeded line in the feed with a tiny budget', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      await runWorkflow('RAG systems', {
        apiKey: '',
        outputDir: outputDir(),
        budgetLimitUsd: 0.001,
      });
    } finally {
      log.mockRestore();
    }
    expect(lines[0]).toBe('[workflow_started] Starting workflow: RAG systems');
    expect(lines).toContain('[agent_started] planner: Breaking down task into subtasks');
    // Each researcher line names its subtask.
    const researched = lines.filter((l) => l.startsWith('[agent_completed] researcher: '));
    expect(researched).toHaveLength(5);
    expect(new Set(researched.map((l) => l.split(': ')[1])).size).toBe(5);
    for (const line of researched) {
      expect(line).toMatch(
        /^\[agent_completed\] researcher: .+ RAG systems: \d+ findings? from \d+ papers? \(/,
      );
    }
    expect(
      lines.some((l) =>
        /^\[agent_completed\] planner: Created 5 subtasks \(\$\d\.\d{4}, [\d,]+ tokens\)$/.test(l),
      ),
    ).toBe(true);
    expect(lines.filter((l) => l.startsWith('[budget_warning] Budget warning: $'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('[budget_exceeded] BUDGET EXCEEDED: $'))).toHaveLength(
      1,
    );
  });

  it('stops at a hard limit with BudgetExceededError and still writes the partial report', async () => {
    const dir = outputDir();
    const error = await quietly(() =>
      runWorkflow('RAG systems', {
        apiKey: '',
        outputDir: dir,
        budgetLimitUsd: 0.002,
        hardLimit: true,
        streamOutput: false,
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    const partial = (error as { reportPath?: string }).reportPath;
    expect(partial && existsSync(partial)).toBe(true);
    const exported = JSON.parse(readFileSync(partial as string, 'utf8')) as UsageExport;
    // Every agent caps its output, so every estimate bounds its call: spend stays within $0.002.
    // The planner's cap alone (1,024 tokens of gemini-2.5-flash, $0.00256) does not fit.
    expect(exported.statistics.totalCostUsd).toBeLessThanOrEqual(0.002);
    expect(exported.statistics.totalCalls).toBe(0);
    expect(error).toMatchObject({ agent: 'planner', spentUsd: 0 });
    expect((error as BudgetExceededError).estimateUsd).toBeGreaterThan(0.002);
    expect(existsSync(join(dir, 'cost_breakdown.svg'))).toBe(true);
  });

  it('keeps a hard limit under the parallel researchers: spend never passes it', async () => {
    // $0.0111 for the whole run. $0.003: the planner, then four parallel researchers fit and
    // the fifth is refused; $0.004: the coder is refused; $0.008: the revising coder.
    for (const [limit, refused] of [
      [0.003, 'researcher'],
      [0.004, 'coder'],
      [0.008, 'coder'],
    ] as const) {
      const dir = outputDir();
      const error = await quietly(() =>
        runWorkflow('RAG systems', {
          apiKey: '',
          outputDir: dir,
          budgetLimitUsd: limit,
          hardLimit: true,
          streamOutput: false,
          ledger: false,
        }),
      ).catch((e: unknown) => e);
      expect(error, `limit ${limit}`).toBeInstanceOf(BudgetExceededError);
      expect((error as BudgetExceededError).agent).toBe(refused);
      const exported = JSON.parse(
        readFileSync((error as { reportPath: string }).reportPath, 'utf8'),
      ) as UsageExport;
      expect(exported.statistics.totalCalls, `limit ${limit}`).toBeGreaterThan(0);
      expect(exported.statistics.totalCostUsd, `limit ${limit}`).toBeLessThanOrEqual(limit);
    }
  });
});

describe('research CLI', () => {
  const cli = (args: string[]) =>
    promisify(execFile)(
      join(root, 'node_modules/.bin/tsx'),
      ['--tsconfig', join(root, 'tsconfig.json'), join(root, 'examples/research/cli.ts'), ...args],
      { cwd: outputDir(), env: { ...process.env, GEMINI_API_KEY: '' }, timeout: 60_000 },
    ).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('exits 2 with a one-line error on wrong arguments', async () => {
    for (const args of [['--budget', 'abc'], ['--depth', 'huge'], ['--nope'], ['a', 'b']]) {
      const result = await cli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^error: /);
    }
  });

  it.each([
    [['--bogus'], 'error: unknown option --bogus (see --help)'],
    [['RAG', '--budget', '-1'], 'error: --budget must be a positive number, got "-1" (see --help)'],
    [['--budget=-1'], 'error: --budget must be a positive number, got "-1" (see --help)'],
    [
      ['--out', '-x'],
      'error: --out needs a value (write --out=VALUE for one that starts with "-") (see --help)',
    ],
    [['--budget'], 'error: --budget needs a value (see --help)'],
  ])('says what is wrong with %j in plain words', async (args, line) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(line);
  });

  it('prints help', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--hard-limit');
  });

  it('stops with exit code 1 and a one-line message at a hard limit', async () => {
    const result = await cli(['RAG systems', '--budget', '0.002', '--hard-limit', '--quiet']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^Stopped: Budget would be exceeded \(session\): spent \$0\.0000 of \$0\.0020, .*estimated \$0\.00\d\d does not fit; call by "planner" refused; partial report: .*\.json$/,
    );
  });
});

describe('research helpers', () => {
  it('searches the offline corpus by title and abstract', () => {
    const titles = searchPapers('retrieval augmented generation', 3).map((p) => p.title);
    // Papers with every term in the title (or keywords) first.
    expect(titles).toHaveLength(3);
    for (const title of titles) expect(title).toMatch(/Retrieval[- ]Augmented Generation/);
    expect(searchPapers('', 3)).toEqual([]);
  });

  it.each([
    ['Transformer architectures', /transformer/i],
    ['RAG systems', /\brag\b/i],
    ['Graph neural networks', /graph/i],
    ['Diffusion models', /diffusion/i],
    ['Reinforcement learning', /reinforcement|\brl\b/i],
  ])('finds papers about "%s" for each subtask, not the same ones for all', (topic, about) => {
    const subtasks = [
      `Core concepts and history of ${topic}`,
      `Efficiency and scaling trade-offs of ${topic}`,
      `Evaluation methods and benchmarks for ${topic}`,
    ];
    const found = subtasks.map((subtask) => searchPapers(`${topic} ${subtask}`, 3, topic));
    for (const papers of found) {
      expect(papers.length).toBeGreaterThan(0);
      for (const p of papers)
        expect(`${p.title} ${p.abstract} ${p.keywords?.join(' ')}`).toMatch(about);
    }
    const firsts = found.map((papers) => papers[0]?.id);
    expect(new Set(firsts).size).toBe(firsts.length);
  });

  it('finds nothing for a topic the corpus does not cover, rather than papers on another', () => {
    expect(searchPapers('Quantum error correction history', 3, 'Quantum error correction')).toEqual(
      [],
    );
    // "rag" is a word, not a substring of "storage" or "average".
    for (const p of searchPapers('RAG systems', 20, 'RAG systems')) {
      expect(`${p.title} ${p.abstract} ${p.keywords?.join(' ')}`).toMatch(/\brag\b/i);
    }
  });

  it('lists each cited paper once with the subtasks it informs and its distinct findings', () => {
    expect(
      citedPapers([
        '- [BERT] informs "history": a finding.',
        '- [RoPE] informs "design": a finding.',
        '- [BERT] informs "design": another finding.',
        '- [BERT] informs "design": another finding.',
        '- An uncited finding.',
      ]),
    ).toEqual([
      '- [BERT] informs: history; design — a finding. / another finding.',
      '- [RoPE] informs: design — a finding.',
      '- An uncited finding.',
    ]);
    // A real model's findings, without the "informs" form: their text is kept.
    expect(
      citedPapers([
        '- [Attention Is All You Need]: attention replaces recurrence.',
        '- [Attention Is All You Need] multi-head attention helps.',
      ]),
    ).toEqual([
      '- [Attention Is All You Need] — attention replaces recurrence. / multi-head attention helps.',
    ]);
  });

  it('prints a ledger command that runs as printed', () => {
    expect(ledgerReportCommand('/repo/outputs/tollgate.db', '/repo', {})).toBe(
      'npm run tollgate -- report --db outputs/tollgate.db',
    );
    expect(ledgerReportCommand("/tmp/my runs/it's.db", '/repo', {})).toBe(
      "npm run tollgate -- report --db '/tmp/my runs/it'\\''s.db'",
    );
    expect(ledgerReportCommand('postgres://db.internal/ledger', '/repo', {})).toBe(
      'npm run tollgate -- report --db postgres://db.internal/ledger',
    );
    const secret = 'postgres://app:s3cret@db.internal/ledger';
    expect(ledgerReportCommand(secret, '/repo', { TOLLGATE_DB: secret })).toBe(
      'npm run tollgate -- report (the ledger is $TOLLGATE_DB)',
    );
    expect(ledgerReportCommand(secret, '/repo', {})).not.toContain('s3cret');
  });

  it('prints the ledger command the CLI accepts, which then reports the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate research dir '));
    const env = { ...process.env, GEMINI_API_KEY: '', TOLLGATE_DB: '' };
    const exec = promisify(execFile);
    const workflow = await exec(
      join(root, 'node_modules/.bin/tsx'),
      ['examples/research/cli.ts', 'RAG systems', '--depth', 'quick', '--quiet', '--out', dir],
      { cwd: root, env, timeout: 120_000 },
    );
    const command = /^Ledger: .* \((npm run tollgate -- report --db .+)\)$/m.exec(
      workflow.stdout,
    )?.[1];
    expect(command, workflow.stdout).toContain(`'${dir}/tollgate.db'`);
    // The printed command, run by a shell from the same folder, reports the run.
    const shown = await exec('sh', ['-c', command as string], { cwd: root, env, timeout: 120_000 });
    expect(shown.stdout).toMatch(/Total calls: +11\b/);
  }, 240_000);

  it('slugifies topics for file names', () => {
    expect(slugify('RAG systems: 2026 / v2!')).toBe('rag_systems_2026_v2');
    expect(slugify('???')).toBe('topic');
  });
});
