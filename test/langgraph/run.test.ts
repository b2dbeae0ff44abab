import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  Annotation,
  MemorySaver,
  MessagesAnnotation,
  Send,
  START,
  StateGraph,
} from '@langchain/langgraph';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { sessionTracker } from '../../src/account/tracker.js';
import {
  BudgetExceededError,
  ConfigurationError,
  currentTokenTracker,
  getTokenTracker,
  TokenTracker,
  type UsageExport,
} from '../../src/index.js';
import {
  agentCompleted,
  agentStarted,
  formatFeedChunk,
  resumeWithTracking,
  runWithTracking,
  type TokenFeedChunk,
  TokenUsageAnnotation,
  type TrackedRunFailure,
  tokenUsageUpdate,
} from '../../src/langgraph/index.js';
import { ScriptedChatModel } from './fake-model.js';
import { captureLog, costOf, silenceHandlerErrors, stable } from './support.js';

const USAGE = { input_tokens: 100, output_tokens: 20, total_tokens: 120 };
const CALL = costOf('gemini-2.5-flash', USAGE);
const State = Annotation.Root({ ...MessagesAnnotation.spec, ...TokenUsageAnnotation.spec });
const input = { messages: [{ role: 'user', content: 'RAG systems' }] };
const quiet = { reportPath: false, printReport: false } as const;
const dir = mkdtempSync(join(tmpdir(), 'tollgate-langgraph-'));

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** planner (1 call) → writer (2 calls), announcing themselves on the feed. */
function pipeline(model: ScriptedChatModel, checkpointer?: MemorySaver) {
  const agent =
    (name: string, calls: number, message: string) => async (state: typeof State.State) => {
      agentStarted(name, message);
      const replies = [];
      for (let i = 0; i < calls; i++) replies.push(await model.invoke(state.messages));
      agentCompleted(name, `${message}: done`);
      return { messages: replies, ...tokenUsageUpdate() };
    };
  return new StateGraph(State)
    .addNode('planner', agent('planner', 1, 'Breaking down task into subtasks'))
    .addNode('writer', agent('writer', 2, 'Writing the report'))
    .addEdge(START, 'planner')
    .addEdge('planner', 'writer')
    .compile(checkpointer ? { checkpointer } : {});
}

const fixedModel = () => new ScriptedChatModel({ script: () => ({ content: 'ok', usage: USAGE }) });
const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as UsageExport;

describe('runWithTracking', () => {
  it('returns the final state with the statistics and writes the report', async () => {
    const tracker = new TokenTracker();
    const reportPath = join(dir, 'complete.json');
    const events: TokenFeedChunk[] = [];
    const result = await runWithTracking(pipeline(fixedModel()), input, {
      tracker,
      reportPath,
      printReport: false,
      onEvent: (chunk) => events.push(chunk),
    });
    expect(result.messages).toHaveLength(4);
    expect(stable(result.tokenUsageStats)).toEqual(stable(tracker.getStatistics()));
    expect(result.tokenUsageStats).toMatchObject({
      totalCalls: 3,
      totalTokens: 360,
      sessionId: tracker.sessionId,
      byAgent: { planner: { calls: 1 }, writer: { calls: 2 } },
    });
    const report = readReport(reportPath);
    expect(report.sessionId).toBe(tracker.sessionId);
    expect(report.statistics.totalCalls).toBe(3);
    expect(report.usageHistory.map((call) => call.agent)).toEqual(['planner', 'writer', 'writer']);
    expect(events.map((e) => `${e.type}:${e.agent}`)).toEqual([
      'agent_started:planner',
      'llm_call:planner',
      'agent_completed:planner',
      'agent_started:writer',
      'llm_call:writer',
      'llm_call:writer',
      'agent_completed:writer',
    ]);
  });

  it('prints the feed in the documented console format', async () => {
    const log = captureLog();
    try {
      await runWithTracking(pipeline(fixedModel()), input, {
        ...quiet,
        budgetLimitUsd: CALL * 2.5,
        warnAt: [0.75],
        streamOutput: true,
        workflowName: 'RAG systems',
      });
    } finally {
      log.restore();
    }
    const money = (usd: number) => `\\$${usd.toFixed(4).replace('.', '\\.')}`;
    const expected = [
      /^\[workflow_started\] Starting workflow: RAG systems$/,
      /^\[agent_started\] planner: Breaking down task into subtasks$/,
      new RegExp(
        `^\\[agent_completed\\] planner: Breaking down task into subtasks: done \\(${money(CALL)}, 120 tokens\\)$`,
      ),
      /^\[agent_started\] writer: Writing the report$/,
      /^\[budget_warning\] Budget warning: \$0\.\d{4} \/ \$0\.\d{4} \(80\.0%\)$/,
      /^\[budget_exceeded\] BUDGET EXCEEDED: \$0\.\d{4} \/ \$0\.\d{4}$/,
      new RegExp(
        `^\\[agent_completed\\] writer: Writing the report: done \\(${money(CALL * 2)}, 240 tokens\\)$`,
      ),
      /^\[workflow_completed\] Workflow completed: 3 calls, 360 tokens, \$0\.\d{4}$/,
    ];
    expect(log.lines).toHaveLength(expected.length);
    for (const [i, line] of log.lines.entries()) expect(line).toMatch(expected[i] as RegExp);
  });

  it('prints nothing and writes nothing unless asked', async () => {
    const outputs = resolve('outputs');
    const before = existsSync(outputs) ? readdirSync(outputs).sort() : [];
    const log = captureLog();
    let result: Awaited<ReturnType<typeof runWithTracking>> | undefined;
    try {
      result = await runWithTracking(pipeline(fixedModel()), input, { budgetLimitUsd: CALL * 2 });
    } finally {
      log.restore();
    }
    expect(result?.tokenUsageStats.totalCalls).toBe(3);
    expect(log.lines).toEqual([]);
    expect(existsSync(outputs) ? readdirSync(outputs).sort() : []).toEqual(before);
  });

  it('prints llm_call lines and the cost report when asked', async () => {
    const log = captureLog();
    try {
      await runWithTracking(pipeline(fixedModel()), input, {
        reportPath: false,
        streamOutput: true,
        printLlmCalls: true,
        printReport: true,
      });
    } finally {
      log.restore();
    }
    expect(log.lines.filter((l) => l.startsWith('[llm_call] '))).toEqual([
      `[llm_call] planner: gemini-2.5-flash $${CALL.toFixed(4)} (120 tokens)`,
      `[llm_call] writer: gemini-2.5-flash $${CALL.toFixed(4)} (120 tokens)`,
      `[llm_call] writer: gemini-2.5-flash $${CALL.toFixed(4)} (120 tokens)`,
    ]);
    expect(log.lines.at(-1)).toContain('TOKEN USAGE & COST REPORT');
  });

  it('stops at a hard limit with BudgetExceededError and still writes the partial report', async () => {
    silenceHandlerErrors();
    const log = captureLog();
    const model = fixedModel();
    // `reportPath: true` writes under the working directory: a temporary one, not the checkout.
    const cwd = process.cwd();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-run-cwd-'));
    process.chdir(dir);
    const error = await runWithTracking(pipeline(model), input, {
      budgetLimitUsd: CALL * 1.5,
      enforce: 'hard',
      reportPath: true,
      printReport: true,
      // Estimates as small as the calls (20 output tokens; 1,024 before the first record).
      trackerOptions: { holdOutputTokens: 20 },
    })
      .then(
        () => undefined,
        (thrown: unknown) => thrown as BudgetExceededError & TrackedRunFailure,
      )
      .finally(() => {
        log.restore();
        process.chdir(cwd);
      });

    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error?.agent).toBe('writer');
    // The planner's call spends 2/3 of the budget; the writer's estimate does not fit the rest.
    expect(model.calls).toBe(1);
    expect(error?.tokenUsageStats?.totalCalls).toBe(1);
    expect(error?.message).toMatch(/would be exceeded .* held by calls in flight/);
    const path = error?.reportPath as string;
    expect(path).toMatch(/outputs[/\\]token_usage_\d{8}_\d{6}_\d{3}_[0-9a-f]{8}\.json$/);
    expect(path.startsWith(resolve(dir))).toBe(true);
    try {
      expect(readReport(path).statistics.totalCalls).toBe(1);
    } finally {
      rmSync(path, { force: true });
    }
    expect(log.lines.at(-1)).toContain('TOKEN USAGE & COST REPORT');
  });

  it('applies enforce and warnAt to a tracker you pass, for the run only', async () => {
    silenceHandlerErrors();
    // A tracker that only warns, at 90%: the run asks for a hard limit and a warning at 30%.
    const tracker = new TokenTracker({ budgetLimitUsd: CALL * 2.5, holdOutputTokens: 20 });
    const events: TokenFeedChunk[] = [];
    const error = await runWithTracking(pipeline(fixedModel()), input, {
      ...quiet,
      tracker,
      enforce: 'hard',
      warnAt: [0.3],
      onEvent: (chunk) => events.push(chunk),
    }).catch((thrown: unknown) => thrown);
    // Two calls (80%); the third's estimate does not fit the 20% left.
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(tracker.getStatistics().totalCalls).toBe(2);
    expect(tracker.spentUsd).toBeLessThanOrEqual(CALL * 2.5);
    expect(events.filter((e) => e.type === 'budget_warning').map((e) => e.message)).toEqual([
      expect.stringContaining('(40.0%)'),
    ]);
    // The tracker's own limits are back.
    expect(tracker.enforce).toBe('warn');
    expect(() => tracker.guard()).not.toThrow();
  });

  it('refuses a second run asking other limits of a tracker in use', async () => {
    const tracker = new TokenTracker({ budgetLimitUsd: 1 });
    const model = new ScriptedChatModel({ latencyMs: 5, script: () => ({ usage: USAGE }) });
    const first = runWithTracking(pipeline(model), input, { ...quiet, tracker, enforce: 'hard' });
    await expect(
      runWithTracking(pipeline(model), input, { ...quiet, tracker, enforce: 'warn' }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    // The same limits share the tracker.
    await runWithTracking(pipeline(model), input, { ...quiet, tracker, enforce: 'hard' });
    await first;
    expect(tracker.getStatistics().totalCalls).toBe(6);
    expect(tracker.enforce).toBe('warn');
  });

  it('rejects invalid options with a ConfigurationError naming the option', async () => {
    await expect(
      runWithTracking(pipeline(fixedModel()), input, { ...quiet, budgetLimitUsd: -1 }),
    ).rejects.toThrow(/budgetLimitUsd/);
    await expect(
      runWithTracking(pipeline(fixedModel()), input, {
        ...quiet,
        enforce: 'strict' as 'hard',
      }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    await expect(
      runWithTracking(pipeline(fixedModel()), input, { ...quiet, reportPath: '' }),
    ).rejects.toThrow(
      'runWithTracking: invalid option reportPath: expected a non-empty path, true or false',
    );
    await expect(
      runWithTracking(pipeline(fixedModel()), input, {
        ...quiet,
        onBudgetExceeded: 'pause' as 'interrupt',
      }),
    ).rejects.toThrow(/onBudgetExceeded: expected "throw" or "interrupt", got "pause"/);
  });
});

describe("the run's tracker", () => {
  it('is current in nodes, subgraphs and Send tasks, carried by the config; tracker.run still wins', async () => {
    const Fan = Annotation.Root({ topics: Annotation<string[]>() });
    type Seen = { where: string; current: TokenTracker; session: unknown; nested: TokenTracker };
    const seen: Seen[] = [];
    const nestedTracker = new TokenTracker();
    const look = (where: string) => () => {
      seen.push({
        where,
        current: getTokenTracker(),
        session: sessionTracker(), // no AsyncLocalStorage of tollgate's holds it
        nested: nestedTracker.run(() => getTokenTracker()),
      });
      return {};
    };
    const sub = new StateGraph(Fan).addNode('inner', look('subgraph')).addEdge(START, 'inner');
    const graph = new StateGraph(Fan)
      .addNode('top', look('node'))
      .addNode('sub', sub.compile())
      .addNode('worker', look('send'))
      .addEdge(START, 'top')
      .addEdge('top', 'sub')
      .addConditionalEdges('sub', (state) =>
        state.topics.map((t) => new Send('worker', { topics: [t] })),
      )
      .compile();
    const tracker = new TokenTracker();
    await runWithTracking(graph, { topics: ['a', 'b'] }, { tracker, ...quiet });
    expect(seen.map((s) => s.where).sort()).toEqual(['node', 'send', 'send', 'subgraph']);
    for (const s of seen) {
      expect(s.current).toBe(tracker);
      expect(s.session).toBeUndefined();
      expect(s.nested).toBe(nestedTracker);
    }
    expect(currentTokenTracker()).toBeUndefined(); // nothing leaks out of the run

    // Inside an outer tracker.run session, the run's own tracker still shadows the outer one.
    seen.length = 0;
    const outer = new TokenTracker();
    await outer.run(() => runWithTracking(graph, { topics: ['c'] }, { tracker, ...quiet }));
    expect(seen.map((s) => s.current)).toEqual([tracker, tracker, tracker]);
  });
});

describe('50 concurrent runs of one compiled graph', () => {
  it('each end with exactly their own numbers', async () => {
    const model = new ScriptedChatModel({
      latencyMs: 1,
      script: (messages) => {
        const run = Number(/run-(\d+)/.exec(String(messages[0]?.content))?.[1]);
        const input_tokens = 1000 + run;
        return {
          content: 'ok',
          usage: { input_tokens, output_tokens: 20, total_tokens: input_tokens + 20 },
        };
      },
    });
    const calls = { a: (run: number) => (run % 3) + 1, b: (run: number) => (run % 4) + 1 };
    const branch = (name: 'a' | 'b') => async (state: typeof State.State) => {
      const run = Number(/run-(\d+)/.exec(String(state.messages[0]?.content))?.[1]);
      agentStarted(name, 'start');
      for (let i = 0; i < calls[name](run); i++) {
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        await model.invoke(state.messages);
      }
      agentCompleted(name, 'done');
      return tokenUsageUpdate();
    };
    const graph = new StateGraph(State)
      .addNode('a', branch('a'))
      .addNode('b', branch('b'))
      .addEdge(START, 'a')
      .addEdge(START, 'b')
      .compile();

    const runs = Array.from({ length: 50 }, (_, run) => {
      const events: TokenFeedChunk[] = [];
      const promise = runWithTracking(
        graph,
        { messages: [{ role: 'user', content: `run-${run}` }] },
        {
          ...quiet,
          onEvent: (e) => events.push(e),
          config: { configurable: { thread_id: `t${run}` } },
        },
      );
      return { run, events, promise };
    });
    const results = await Promise.all(runs.map((r) => r.promise));

    for (const { run, events } of runs) {
      const stats = results[run]!.tokenUsageStats;
      const perCall = { input_tokens: 1000 + run, output_tokens: 20, total_tokens: 1020 + run };
      const n = calls.a(run) + calls.b(run);
      expect(stats.totalCalls).toBe(n);
      expect(stats.totalTokens).toBe(n * (1020 + run));
      expect(stats.totalCostUsd).toBeCloseTo(n * costOf('gemini-2.5-flash', perCall), 12);
      expect(stats.byAgent.a?.calls).toBe(calls.a(run));
      expect(stats.byAgent.b?.calls).toBe(calls.b(run));
      expect(Object.keys(stats.byThread)).toEqual([`t${run}`]);
      expect(events.filter((e) => e.type === 'llm_call')).toHaveLength(n);
      const done = Object.fromEntries(
        events.filter((e) => e.type === 'agent_completed').map((e) => [e.agent, e.tokens]),
      );
      expect(done).toEqual({ a: calls.a(run) * (1020 + run), b: calls.b(run) * (1020 + run) });
    }
  });
});

describe('onBudgetExceeded: "interrupt"', () => {
  const setup = () => {
    const model = fixedModel();
    const graph = pipeline(model, new MemorySaver());
    const thread = `thread-${Math.random()}`;
    const options = {
      ...quiet,
      budgetLimitUsd: CALL,
      onBudgetExceeded: 'interrupt' as const,
      trackerOptions: { holdOutputTokens: 20 },
      config: { configurable: { thread_id: thread } },
    };
    return { model, graph, options };
  };

  it('pauses for approval, and an approval raises the limit and completes the run', async () => {
    silenceHandlerErrors();
    const { model, graph, options } = setup();
    const paused = await runWithTracking(graph, input, options);
    expect(model.calls).toBe(1);
    expect(paused.__interrupt__?.[0]?.value).toMatchObject({
      type: 'budget_exceeded',
      spentUsd: CALL,
      limitUsd: CALL,
      agent: 'writer',
    });
    expect(paused.tokenUsageStats.totalCalls).toBe(1);

    const done = await resumeWithTracking(
      graph,
      { approved: true, newLimitUsd: CALL * 10 },
      options,
    );
    expect(done.__interrupt__).toBeUndefined();
    expect(model.calls).toBe(3); // the writer node re-ran from the top: its two calls
    expect(done.messages).toHaveLength(4);
    // The paused run's tracker carried on: one session, all three calls, the new limit.
    expect(done.tokenUsageStats).toMatchObject({
      sessionId: paused.tokenUsageStats.sessionId,
      totalCalls: 3,
      budgetLimitUsd: CALL * 10,
    });
  });

  it('rejects with BudgetExceededError when the approval is refused', async () => {
    silenceHandlerErrors();
    const { model, graph, options } = setup();
    await runWithTracking(graph, input, options);
    const error = await resumeWithTracking(graph, { approved: false }, options).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(model.calls).toBe(1);
  });

  it('an approved limit still too low for the call asks again, saying why', async () => {
    silenceHandlerErrors();
    const { model, graph, options } = setup();
    await runWithTracking(graph, input, options); // the planner's call uses the budget up
    // 20% more does not hold the writer's estimate (20 output tokens alone are 62% of a call).
    const again = await resumeWithTracking(
      graph,
      { approved: true, newLimitUsd: CALL * 1.2 },
      options,
    );
    expect(model.calls).toBe(1);
    expect(again.__interrupt__?.[0]?.value).toMatchObject({
      type: 'budget_exceeded',
      limitUsd: CALL * 1.2,
      message: expect.stringMatching(
        /^Budget would be exceeded \(session\): .* does not fit; call by "writer" refused; approve a new limit to continue$/,
      ),
    });
    const done = await resumeWithTracking(
      graph,
      { approved: true, newLimitUsd: CALL * 10 },
      options,
    );
    expect(done.__interrupt__).toBeUndefined();
    expect(model.calls).toBe(3);
    expect(done.tokenUsageStats).toMatchObject({ totalCalls: 3, budgetLimitUsd: CALL * 10 });
  });

  it('needs a checkpointer and a thread id', async () => {
    await expect(
      runWithTracking(pipeline(fixedModel()), input, { ...quiet, onBudgetExceeded: 'interrupt' }),
    ).rejects.toThrow(/needs a checkpointer/);
    await expect(
      runWithTracking(pipeline(fixedModel(), new MemorySaver()), input, {
        ...quiet,
        onBudgetExceeded: 'interrupt',
      }),
    ).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('formatFeedChunk', () => {
  const base = {
    source: 'tollgate' as const,
    spentUsd: 0,
    limitUsd: 0.5,
    utilizationPercent: 0,
    timestamp: 0,
  };
  it.each([
    [
      {
        ...base,
        type: 'agent_started',
        agent: 'planner',
        message: 'Breaking down task into subtasks',
      },
      '[agent_started] planner: Breaking down task into subtasks',
    ],
    [
      {
        ...base,
        type: 'agent_completed',
        agent: 'planner',
        message: 'Created 5 subtasks',
        costUsd: 0.0021,
        tokens: 2340,
      },
      '[agent_completed] planner: Created 5 subtasks ($0.0021, 2,340 tokens)',
    ],
    [
      {
        ...base,
        type: 'llm_call',
        agent: 'planner',
        model: 'gemini-2.5-flash',
        costUsd: 0.0004,
        tokens: 1234,
      },
      '[llm_call] planner: gemini-2.5-flash $0.0004 (1,234 tokens)',
    ],
    [
      { ...base, type: 'budget_warning', agent: 'writer', spentUsd: 0.47, utilizationPercent: 94 },
      '[budget_warning] Budget warning: $0.47 / $0.50 (94.0%)',
    ],
    [
      {
        ...base,
        type: 'budget_exceeded',
        agent: 'writer',
        spentUsd: 0.52,
        utilizationPercent: 104,
      },
      '[budget_exceeded] BUDGET EXCEEDED: $0.52 / $0.50',
    ],
  ] as [TokenFeedChunk, string][])('%#: %s', (chunk, line) => {
    expect(formatFeedChunk(chunk)).toBe(line);
  });
});
