/**
 * The research workflow as a LangGraph.js graph:
 * planner → researcher (one Send task per subtask, in parallel) → coder → tester → critic
 * → (revise: back to coder, up to maxIterations) → synthesizer.
 *
 * Every Gemini call goes through `trackGemini`, so each is recorded with its agent (the node),
 * thread and exact cost, and budget events reach the graph's "custom" stream.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type GenerativeModel, GoogleGenerativeAI } from '@google/generative-ai';
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import { trackGemini } from 'tollgate/gemini';
import { agentCompleted, agentStarted, TokenUsageAnnotation } from 'tollgate/langgraph';
import { AGENTS, type AgentName } from './agents.js';
import { type Paper, searchPapers } from './corpus.js';

export type Depth = 'quick' | 'standard' | 'deep';

const DEPTH = {
  quick: { subtasks: 3, papers: 2 },
  standard: { subtasks: 5, papers: 3 },
  deep: { subtasks: 7, papers: 5 },
} as const;

/** The two calls the agents make; a @google/generative-ai GenerativeModel has both. */
export type ResearchModel = Pick<GenerativeModel, 'generateContent' | 'generateContentStream'>;

export interface GraphSettings {
  /** The model an agent calls (see `geminiModels`). */
  modelFor: (agent: AgentName) => ResearchModel;
  /** Where the report is written. */
  outputDir: string;
  /** Emit agent_started / agent_completed feed events (default true). */
  feed?: boolean;
  /**
   * Finds a subtask's papers (default: the offline corpus); `topic` is the run's topic, which
   * the query contains. If it throws or rejects (arXiv down, say), the researcher uses the
   * offline corpus for that subtask and says so in its feed.
   */
  searchPapers?: (query: string, limit: number, topic: string) => Paper[] | Promise<Paper[]>;
}

export interface GeminiSettings {
  apiKey: string;
  /** The Gemini API base URL (the offline stand-in's), or undefined for the real API. */
  baseUrl?: string;
  fastModel: string;
  standardModel: string;
}

export const ResearchState = Annotation.Root({
  topic: Annotation<string>,
  depth: Annotation<Depth>,
  maxIterations: Annotation<number>,
  subtask: Annotation<string>,
  subtasks: Annotation<string[]>,
  findings: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
  code: Annotation<string>,
  testReport: Annotation<string>,
  critique: Annotation<string>,
  approved: Annotation<boolean>,
  /** The critic asked for another round and the iteration limit allows it. */
  revise: Annotation<boolean>,
  iteration: Annotation<number>({ reducer: (_, b) => b, default: () => 1 }),
  report: Annotation<string>,
  reportPath: Annotation<string>,
  ...TokenUsageAnnotation.spec,
});

export type ResearchStateType = typeof ResearchState.State;

/**
 * Gemini models for the agents, each wrapped by `trackGemini`: that one line is the whole
 * integration, as the agent, node and thread are read from the running LangGraph node.
 */
export function geminiModels(settings: GeminiSettings): (agent: AgentName) => ResearchModel {
  const client = new GoogleGenerativeAI(settings.apiKey);
  const models = new Map<AgentName, ResearchModel>();
  return (agent) => {
    let model = models.get(agent);
    if (!model) {
      const spec = AGENTS[agent];
      model = trackGemini(
        client.getGenerativeModel(
          {
            model: spec.tier === 'fast' ? settings.fastModel : settings.standardModel,
            systemInstruction: spec.systemInstruction,
            generationConfig: { maxOutputTokens: spec.maxOutputTokens },
          },
          settings.baseUrl ? { baseUrl: settings.baseUrl } : undefined,
        ),
      );
      models.set(agent, model);
    }
    return model;
  };
}

/** "1 finding", "3 findings". */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The researchers' findings with each cited paper once: parallel subtasks often cite the same
 * paper, and a report that lists it three times reads as padding. A finding cites its paper as
 * `[Title]`, optionally followed by `informs "subtask"`; the subtasks and the distinct texts of a
 * paper's findings are kept on its one line. A finding that cites no paper is kept as it is.
 *
 * @example
 * citedPapers(['- [BERT] informs "history": bidirectional.', '- [BERT] informs "design": bidirectional.']);
 * // ['- [BERT] informs: history; design — bidirectional.']
 */
export function citedPapers(findings: readonly string[]): string[] {
  const byPaper = new Map<string, { subtasks: string[]; notes: string[] }>();
  const uncited: string[] = [];
  for (const finding of findings) {
    const cited = /^\s*-\s*\[(.+?)\](?:\s*informs\s*"(.+?)")?[\s:,.;—-]*(.*)$/.exec(finding);
    if (!cited?.[1]) {
      uncited.push(finding);
      continue;
    }
    const paper = byPaper.get(cited[1]) ?? { subtasks: [], notes: [] };
    const [, , subtask, note] = cited;
    if (subtask && !paper.subtasks.includes(subtask)) paper.subtasks.push(subtask);
    if (note && !paper.notes.includes(note)) paper.notes.push(note);
    byPaper.set(cited[1], paper);
  }
  return [
    ...[...byPaper].map(([title, { subtasks, notes }]) => {
      const informs = subtasks.length > 0 ? ` informs: ${subtasks.join('; ')}` : '';
      return `- [${title}]${informs}${notes.length > 0 ? ` — ${notes.join(' / ')}` : ''}`;
    }),
    ...uncited,
  ];
}

export function slugify(topic: string): string {
  return (
    topic
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 60) || 'topic'
  );
}

export function buildResearchGraph(settings: GraphSettings) {
  const feed = settings.feed ?? true;
  const search = settings.searchPapers ?? searchPapers;
  const started = (agent: AgentName, message: string) => {
    if (feed) agentStarted(agent, message);
  };
  const completed = (agent: AgentName, message: string) => {
    if (feed) agentCompleted(agent, message);
  };
  const ask = async (agent: AgentName, prompt: string): Promise<string> => {
    const { response } = await settings.modelFor(agent).generateContent(prompt);
    return response.text();
  };

  const planner = async (state: ResearchStateType) => {
    started('planner', AGENTS.planner.task);
    const wanted = DEPTH[state.depth].subtasks;
    const text = await ask('planner', `Topic: ${state.topic}\nSubtasks: ${wanted}`);
    const subtasks = [...text.matchAll(/^\s*\d+[.)]\s+(.+)$/gm)]
      .map((m) => (m[1] as string).trim())
      .slice(0, wanted);
    const plan = subtasks.length > 0 ? subtasks : [state.topic];
    completed('planner', `Created ${count(plan.length, 'subtask')}`);
    return { subtasks: plan };
  };

  const researcher = async (state: ResearchStateType) => {
    started('researcher', `${AGENTS.researcher.task}: ${state.subtask}`);
    const query = `${state.topic} ${state.subtask}`;
    const limit = DEPTH[state.depth].papers;
    let papers: Paper[];
    let source = '';
    try {
      const found = search(query, limit, state.topic);
      // The offline search answers synchronously: no await on the default path.
      papers = Array.isArray(found) ? found : await found;
    } catch {
      papers = searchPapers(query, limit, state.topic);
      source = ' (paper search unavailable: offline corpus)';
    }
    const list = papers
      .map((p) => `- ${p.title} (${p.year}, ${p.authors}, ${p.venue}): ${p.abstract}`)
      .join('\n');
    const text = await ask(
      'researcher',
      `Topic: ${state.topic}\nSubtask: ${state.subtask}\nPapers:\n${list || '(none found)'}`,
    );
    const findings = text.split('\n').filter((line) => line.trim().startsWith('-'));
    const found =
      papers.length === 0
        ? 'no paper found'
        : `${count(findings.length, 'finding')} from ${count(papers.length, 'paper')}`;
    completed('researcher', `${state.subtask}: ${found}${source}`);
    return { findings };
  };

  const coder = async (state: ResearchStateType) => {
    started('coder', state.iteration > 1 ? 'Revising the implementation' : AGENTS.coder.task);
    const text = await ask(
      'coder',
      [
        `Topic: ${state.topic}`,
        `Iteration: ${state.iteration}`,
        `Findings:\n${state.findings.join('\n')}`,
        state.critique ? `Critique to address:\n${state.critique}` : '',
      ].join('\n'),
    );
    const code = /```(?:ts|typescript)?\n([\s\S]*?)```/.exec(text)?.[1] ?? text;
    completed('coder', `Wrote ${code.split('\n').length} lines of code`);
    return { code };
  };

  const tester = async (state: ResearchStateType) => {
    started('tester', AGENTS.tester.task);
    const text = await ask('tester', `Topic: ${state.topic}\nCode:\n${state.code}`);
    const result = /RESULT: (.*)$/m.exec(text)?.[1] ?? 'no result reported';
    completed('tester', `Tests: ${result}`);
    return { testReport: text };
  };

  const critic = async (state: ResearchStateType) => {
    started('critic', AGENTS.critic.task);
    const text = await ask(
      'critic',
      [
        `Topic: ${state.topic}`,
        `Iteration: ${state.iteration}`,
        `Findings:\n${state.findings.join('\n')}`,
        `Code:\n${state.code}`,
        `Tests:\n${state.testReport}`,
      ].join('\n'),
    );
    const approved = /VERDICT:\s*APPROVED/i.test(text);
    const last = state.iteration >= state.maxIterations;
    completed(
      'critic',
      approved ? 'Approved' : last ? 'Revision asked; iteration limit reached' : 'Revision asked',
    );
    const revise = !approved && !last;
    return { critique: text, approved, revise, iteration: state.iteration + (revise ? 1 : 0) };
  };

  const synthesizer = async (state: ResearchStateType) => {
    started('synthesizer', AGENTS.synthesizer.task);
    const prompt = [
      `Topic: ${state.topic}`,
      `Findings (each paper once, with the subtasks it informs):\n${citedPapers(state.findings).join('\n')}`,
      `Code:\n${state.code}`,
      `Tests:\n${state.testReport}`,
      `Critique:\n${state.critique}`,
    ].join('\n');
    // Streamed: the call is recorded once, with the final usage of the stream.
    const result = await settings.modelFor('synthesizer').generateContentStream(prompt);
    let report = '';
    for await (const chunk of result.stream) report += chunk.text();
    const dir = resolve(settings.outputDir);
    mkdirSync(dir, { recursive: true });
    const reportPath = join(dir, `report_${slugify(state.topic)}.md`);
    writeFileSync(reportPath, `${report.trim()}\n`);
    completed(
      'synthesizer',
      `Report written (${report.length.toLocaleString('en-US')} characters)`,
    );
    return { report, reportPath };
  };

  return new StateGraph(ResearchState)
    .addNode('planner', planner)
    .addNode('researcher', researcher)
    .addNode('coder', coder)
    .addNode('tester', tester)
    .addNode('critic', critic)
    .addNode('synthesizer', synthesizer)
    .addEdge(START, 'planner')
    .addConditionalEdges(
      'planner',
      (state) => state.subtasks.map((subtask) => new Send('researcher', { ...state, subtask })),
      ['researcher'],
    )
    .addEdge('researcher', 'coder')
    .addEdge('coder', 'tester')
    .addEdge('tester', 'critic')
    .addConditionalEdges('critic', (state) => (state.revise ? 'coder' : 'synthesizer'), [
      'coder',
      'synthesizer',
    ])
    .addEdge('synthesizer', END)
    .compile();
}
