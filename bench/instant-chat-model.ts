/**
 * An instant LangChain chat model for the research graph: the same scripted answers and usage as
 * `examples/research/fake-model.ts`, behind LangChain's `BaseChatModel` (so callback managers,
 * `invoke` and `stream` run exactly as for ChatGoogleGenerativeAI), and an adapter that gives it
 * the graph's `generateContent` / `generateContentStream` shape. Every LangChain variant of the
 * benchmark goes through the same adapter, so it cancels out of their differences.
 */
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
} from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { countTextTokens, defaultThoughtsTokens } from 'tollgate/testing';
import { AGENTS, type AgentName } from '../examples/research/agents.js';
import type { ResearchModel } from '../examples/research/graph.js';
import { scriptedReply } from '../examples/research/offline.js';

function reply(agent: AgentName, model: string, messages: BaseMessage[]) {
  const prompt = String(messages.at(-1)?.content ?? '');
  const text = scriptedReply(agent, prompt) ?? 'ok';
  const input = countTextTokens(`${AGENTS[agent].systemInstruction}\n${prompt}`);
  const output = countTextTokens(text);
  const reasoning = /2\.5|3/.test(model) ? defaultThoughtsTokens({ promptTokenCount: input }) : 0;
  return {
    text,
    usage: {
      input_tokens: input,
      output_tokens: output + reasoning,
      total_tokens: input + output + reasoning,
      output_token_details: { reasoning },
    },
  };
}

/** One agent's model: answers at once, reports `usage_metadata`, streams in two chunks. */
export class InstantChatModel extends BaseChatModel<BaseChatModelCallOptions> {
  constructor(
    readonly agent: AgentName,
    readonly model: string,
  ) {
    super({});
  }

  _llmType(): string {
    return 'instant';
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const { text, usage } = reply(this.agent, this.model, messages);
    const message = new AIMessage({
      content: text,
      usage_metadata: usage,
      response_metadata: { model_name: this.model },
    });
    return { generations: [{ message, text }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
  ): AsyncGenerator<ChatGenerationChunk> {
    const { text, usage } = reply(this.agent, this.model, messages);
    const middle = Math.ceil(text.length / 2);
    const pieces = [text.slice(0, middle), text.slice(middle)];
    for (const [i, piece] of pieces.entries()) {
      const last = i === pieces.length - 1;
      yield new ChatGenerationChunk({
        text: piece,
        message: new AIMessageChunk({ content: piece, ...(last ? { usage_metadata: usage } : {}) }),
      });
    }
  }
}

/** The research graph's model shape over a LangChain chat model (`invoke`, `stream`). */
export function asResearchModel(chat: BaseChatModel): ResearchModel {
  return {
    generateContent: (async (prompt: string) => {
      const message = await chat.invoke(prompt);
      return { response: { text: () => String(message.content) } };
    }) as unknown as ResearchModel['generateContent'],
    generateContentStream: (async (prompt: string) => {
      const chunks = await chat.stream(prompt);
      async function* stream() {
        for await (const chunk of chunks) yield { text: () => String(chunk.content) };
      }
      return { stream: stream(), response: Promise.resolve({ text: () => '' }) };
    }) as unknown as ResearchModel['generateContentStream'],
  };
}
