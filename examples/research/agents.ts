/**
 * The research team: who does what, on which model tier, with which instructions.
 * Researcher and tester run on the fast tier; the others on the standard tier (configurable).
 */
export type AgentName = 'planner' | 'researcher' | 'coder' | 'tester' | 'critic' | 'synthesizer';
export type Tier = 'fast' | 'standard';

export interface AgentSpec {
  tier: Tier;
  /** What `agent_started` says the agent is doing. */
  task: string;
  systemInstruction: string;
  /** Cap on output tokens (thinking included), which also caps each call's cost. */
  maxOutputTokens: number;
}

export const AGENTS: Record<AgentName, AgentSpec> = {
  planner: {
    tier: 'standard',
    task: 'Breaking down task into subtasks',
    systemInstruction:
      'You are the planner of a research team. Break the topic into concrete, numbered research subtasks, one per line, in the form "1. <subtask>". No other text.',
    maxOutputTokens: 1024,
  },
  researcher: {
    tier: 'fast',
    task: 'Reviewing the literature',
    systemInstruction:
      'You are the researcher of a research team. From the papers given, write one bullet per finding, citing the paper title in brackets.',
    maxOutputTokens: 1536,
  },
  coder: {
    tier: 'standard',
    task: 'Writing a reference implementation',
    systemInstruction:
      'You are the coder of a research team. Write a small, self-contained TypeScript implementation that illustrates the topic, in one ```ts code block, then one line explaining it.',
    maxOutputTokens: 2048,
  },
  tester: {
    tier: 'fast',
    task: 'Testing the implementation',
    systemInstruction:
      'You are the tester of a research team. Review the code for bugs and list test cases; end with a line "RESULT: <passed> passed, <failed> failed".',
    maxOutputTokens: 1024,
  },
  critic: {
    tier: 'standard',
    task: 'Reviewing the work',
    systemInstruction:
      'You are the critic of a research team. Judge whether the findings and code answer the topic well. Answer with "VERDICT: APPROVED" or "VERDICT: REVISE" on the first line, then your reasons.',
    maxOutputTokens: 1024,
  },
  synthesizer: {
    tier: 'standard',
    task: 'Writing the final report',
    systemInstruction:
      'You are the synthesizer of a research team. Write the final report in Markdown: a summary, key findings with citations (each paper once), the implementation, test results, and open questions.',
    maxOutputTokens: 4096,
  },
};

/** The agent a system instruction belongs to (used by the offline stand-in to script replies). */
export function agentOfInstruction(text: string): AgentName | undefined {
  const match = /You are the (\w+) of a research team/.exec(text);
  const name = match?.[1];
  return name && name in AGENTS ? (name as AgentName) : undefined;
}
