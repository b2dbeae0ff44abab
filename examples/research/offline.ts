/**
 * Offline Gemini for the research example: the tollgate stand-in with scripted, deterministic
 * replies per agent, so the workflow runs with no key and no network. Usage metadata (prompt,
 * thinking, cache and output tokens) comes from the stand-in, as the real API would report it.
 */
import { type GeminiStandIn, type StandInRequest, startGeminiStandIn } from 'tollgate/testing';
import { type AgentName, agentOfInstruction } from './agents.js';

function subtopics(topic: string): string[] {
  return [
    `Core concepts and history of ${topic}`,
    `Key architectures and design choices in ${topic}`,
    `Efficiency and scaling trade-offs of ${topic}`,
    `Evaluation methods and benchmarks for ${topic}`,
    `Open problems and recent advances in ${topic}`,
    `Practical implementation patterns for ${topic}`,
    `Failure modes and mitigations in ${topic}`,
  ];
}

function field(text: string, name: string): string {
  return new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
}

function reply(request: StandInRequest): string | undefined {
  const instruction = request.systemInstruction?.parts?.map((p) => p.text ?? '').join('') ?? '';
  return scriptedReply(agentOfInstruction(instruction), request.text);
}

/** The deterministic answer of an agent to a prompt (undefined: not a research agent). */
export function scriptedReply(agent: AgentName | undefined, text: string): string | undefined {
  const topic = field(text, 'Topic') || 'the topic';
  switch (agent) {
    case 'planner': {
      const count = Number(field(text, 'Subtasks')) || 5;
      return subtopics(topic)
        .slice(0, count)
        .map((subtask, i) => `${i + 1}. ${subtask}`)
        .join('\n');
    }
    case 'researcher': {
      const titles = [...text.matchAll(/^- (.+?) \(\d{4}/gm)].map((m) => m[1]);
      const subtask = field(text, 'Subtask');
      return titles.length
        ? titles
            .map(
              (title) =>
                `- [${title}] informs "${subtask}": it reports a result that the team should reuse and compare against.`,
            )
            .join('\n')
        : `- No paper in the corpus addresses "${subtask}"; the team should treat it as an open question.`;
    }
    case 'coder': {
      const iteration = Number(field(text, 'Iteration')) || 1;
      return [
        '```ts',
        '/** Scaled dot-product attention over one query, as a reference for the report. */',
        'export function attention(query: number[], keys: number[][], values: number[][]): number[] {',
        '  const scale = 1 / Math.sqrt(query.length);',
        '  const scores = keys.map((key) => key.reduce((sum, k, i) => sum + k * (query[i] ?? 0), 0) * scale);',
        '  const max = Math.max(...scores);',
        '  const weights = scores.map((s) => Math.exp(s - max));',
        '  const total = weights.reduce((a, b) => a + b, 0);',
        '  return values[0]!.map((_, d) => values.reduce((sum, v, i) => sum + (weights[i]! / total) * v[d]!, 0));',
        '}',
        '```',
        iteration > 1
          ? 'Revision: numerically stable softmax and explicit scaling, as the critic asked.'
          : 'A minimal implementation for the report.',
      ].join('\n');
    }
    case 'tester':
      return [
        '- uniform keys give the mean of the values: ok',
        '- one dominant key selects its value: ok',
        '- large scores do not overflow (max subtraction): ok',
        '- empty keys: throws, documented',
        'RESULT: 4 passed, 0 failed',
      ].join('\n');
    case 'critic': {
      const iteration = Number(field(text, 'Iteration')) || 1;
      return iteration < 2
        ? 'VERDICT: REVISE\nThe implementation should explain numerical stability, and the findings should cite more than one architecture paper.'
        : 'VERDICT: APPROVED\nThe findings are cited and the implementation is tested.';
    }
    case 'synthesizer':
      return [
        `# ${topic}: research report`,
        '',
        '## Summary',
        `This report reviews ${topic} from the team's findings, with a reference implementation and its tests.`,
        '',
        '## Key findings',
        ...keyFindings(text),
        '',
        '## Implementation and tests',
        'The reference implementation passed all of its tests.',
        '',
        '## Open questions',
        '- How do the trade-offs change at long context?',
      ].join('\n');
    default:
      return undefined;
  }
}

/** The report's key findings: each paper once (the prompt lists each once), at most eight. */
function keyFindings(text: string): string[] {
  const lines = [...text.matchAll(/^- \[(.+?)\](?: informs: (.+?))?(?: — .*)?$/gm)];
  if (lines.length === 0) return ['- No paper in the corpus addresses this topic.'];
  const titles = new Set<string>();
  const shown: string[] = [];
  for (const [, title, subtasks] of lines) {
    if (!title || titles.has(title) || shown.length === 8) continue;
    titles.add(title);
    shown.push(subtasks ? `- ${title}: informs ${subtasks}` : `- ${title}`);
  }
  return shown;
}

/** Starts the offline Gemini. Close it when the run ends. */
export function startOfflineGemini(): Promise<GeminiStandIn> {
  return startGeminiStandIn({ respond: reply });
}
