/**
 * An in-process stand-in for a @google/generative-ai GenerativeModel: the same scripted answers
 * and the same usage rules as the offline HTTP stand-in, without HTTP. Used by the benchmark
 * that measures the tracker's overhead on the research graph, and by fast tests.
 */
import { countTextTokens, defaultThoughtsTokens } from 'tollgate/testing';
import { AGENTS, type AgentName } from './agents.js';
import type { ResearchModel } from './graph.js';
import { scriptedReply } from './offline.js';

interface FakeResponse {
  text(): string;
  usageMetadata: Record<string, number>;
}

function respond(agent: AgentName, modelName: string, prompt: string): FakeResponse {
  const text = scriptedReply(agent, prompt) ?? 'ok';
  const promptTokenCount = countTextTokens(`${AGENTS[agent].systemInstruction}\n${prompt}`);
  const candidatesTokenCount = countTextTokens(text);
  const thoughtsTokenCount = /2\.5|3/.test(modelName)
    ? defaultThoughtsTokens({ promptTokenCount })
    : 0;
  return {
    text: () => text,
    usageMetadata: {
      promptTokenCount,
      candidatesTokenCount,
      thoughtsTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount + thoughtsTokenCount,
    },
  };
}

/** A fake GenerativeModel for one agent; `trackGemini` accepts it like the real one. */
export function fakeGenerativeModel(agent: AgentName, modelName: string): ResearchModel {
  const model = {
    model: `models/${modelName}`,
    async generateContent(prompt: string) {
      return { response: respond(agent, modelName, prompt) };
    },
    async generateContentStream(prompt: string) {
      const response = respond(agent, modelName, prompt);
      const full = response.text();
      const middle = Math.ceil(full.length / 2);
      const pieces = [full.slice(0, middle), full.slice(middle)];
      async function* stream() {
        let sent = '';
        for (const piece of pieces) {
          sent += piece;
          const partial = countTextTokens(sent);
          const { promptTokenCount = 0, thoughtsTokenCount = 0 } = response.usageMetadata;
          const usageMetadata = {
            ...response.usageMetadata,
            candidatesTokenCount: partial,
            totalTokenCount: promptTokenCount + partial + thoughtsTokenCount,
          };
          yield { text: () => piece, usageMetadata };
        }
      }
      return { stream: stream(), response: Promise.resolve(response) };
    },
    startChat() {
      throw new Error('the research agents do not chat');
    },
  };
  return model as unknown as ResearchModel;
}
