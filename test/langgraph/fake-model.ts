import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from '@langchain/core/language_models/chat_models';
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  type UsageMetadata,
} from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';

/** What a scripted model answers to one call. */
export interface ScriptedReply {
  content?: string;
  toolCalls?: { name: string; args: Record<string, unknown>; id?: string }[];
  /** Defaults to `defaultUsage(messages)`; `null` for a reply without usage. */
  usage?: UsageMetadata | null;
  /**
   * When streaming: the usage carried by each chunk, in order (LangChain sums them), instead of
   * `usage` on the last chunk. Mimics providers that report usage on every chunk.
   */
  chunkUsage?: UsageMetadata[];
  /** When streaming: the `response_metadata` of every chunk (e.g. a provider tag). */
  chunkMetadata?: Record<string, unknown>;
}

export type Script = (messages: BaseMessage[], call: number) => ScriptedReply;

export interface ScriptedChatModelParams extends BaseChatModelParams {
  /** The model name reported as `ls_model_name` and `invocation_params.model`. */
  model?: string;
  /** Answers each call; the default echoes the last message with `defaultUsage`. */
  script?: Script;
  /** Stream through `_streamResponseChunks` (usage on the last chunk, like OpenAI/Gemini). */
  streaming?: boolean;
  /** Milliseconds to wait per call, to interleave concurrent runs. */
  latencyMs?: number;
}

/** Shared by a model and every copy `bindTools` makes, so calls are counted once per model. */
interface Counter {
  calls: number;
}

let toolCallSequence = 0;

/** Usage that depends only on the prompt: 100 input tokens per message, 20 output tokens. */
export function defaultUsage(messages: BaseMessage[]): UsageMetadata {
  const input = 100 * messages.length;
  return { input_tokens: input, output_tokens: 20, total_tokens: input + 20 };
}

/**
 * A chat model for tests: answers from a script, reports `usage_metadata`, counts its calls,
 * and supports `bindTools` so `createReactAgent`, supervisors and swarms can use it.
 */
export class ScriptedChatModel extends BaseChatModel<BaseChatModelCallOptions> {
  readonly model: string;
  private readonly script: Script;
  private readonly counter: Counter;
  private readonly latencyMs: number;
  private readonly streamingMode: boolean;
  private readonly params: ScriptedChatModelParams;

  constructor(params: ScriptedChatModelParams = {}, counter?: Counter) {
    super(params);
    this.model = params.model ?? 'gemini-2.5-flash';
    this.script =
      params.script ??
      ((messages) => ({ content: `echo: ${String(messages.at(-1)?.content ?? '')}` }));
    this.streamingMode = params.streaming ?? false;
    this.latencyMs = params.latencyMs ?? 0;
    this.counter = counter ?? { calls: 0 };
    this.params = params;
  }

  /** Model calls made so far (through this model and its `bindTools` copies). */
  get calls(): number {
    return this.counter.calls;
  }

  _llmType(): string {
    return 'scripted';
  }

  override invocationParams(): Record<string, unknown> {
    return { model: this.model };
  }

  override getLsParams(options: this['ParsedCallOptions']) {
    return { ...super.getLsParams(options), ls_provider: 'google', ls_model_name: this.model };
  }

  override bindTools(tools: BindToolsInput[]) {
    const copy = new ScriptedChatModel(this.params, this.counter);
    return copy.withConfig({ tools } as Partial<BaseChatModelCallOptions>);
  }

  private async reply(messages: BaseMessage[]): Promise<AIMessage> {
    return (await this.scripted(messages)).message;
  }

  private async scripted(messages: BaseMessage[]): Promise<{
    message: AIMessage;
    chunkUsage?: UsageMetadata[];
    chunkMetadata?: Record<string, unknown>;
  }> {
    const call = this.counter.calls++;
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const scripted = this.script(messages, call);
    const usage = scripted.usage === undefined ? defaultUsage(messages) : scripted.usage;
    const toolCalls: ToolCall[] = (scripted.toolCalls ?? []).map((t, i) => ({
      name: t.name,
      args: t.args,
      // Unique across models: prebuilt agents skip tool calls whose id already has an answer.
      id: t.id ?? `call_${++toolCallSequence}_${i}`,
      type: 'tool_call',
    }));
    const message = new AIMessage({
      content: scripted.content ?? '',
      tool_calls: toolCalls,
      ...(usage ? { usage_metadata: usage } : {}),
    });
    return { message, chunkUsage: scripted.chunkUsage, chunkMetadata: scripted.chunkMetadata };
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const message = await this.reply(messages);
    return { generations: [{ message, text: String(message.content) }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    _options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    if (!this.streamingMode) {
      // Behave like a non-streaming provider: one chunk holding the whole reply.
      const message = await this.reply(messages);
      yield toChunk(message);
      return;
    }
    const { message, chunkUsage, chunkMetadata } = await this.scripted(messages);
    const text = String(message.content);
    const pieces = text.match(/.{1,8}/g) ?? [''];
    while (chunkUsage && pieces.length < chunkUsage.length) pieces.push('');
    for (const [i, piece] of pieces.entries()) {
      const last = i === pieces.length - 1;
      const usage = chunkUsage ? chunkUsage[i] : last ? message.usage_metadata : undefined;
      const chunk = new ChatGenerationChunk({
        text: piece,
        message: new AIMessageChunk({
          content: piece,
          ...(last ? { tool_call_chunks: toolCallChunks(message) } : {}),
          ...(usage ? { usage_metadata: usage } : {}),
          ...(chunkMetadata ? { response_metadata: chunkMetadata } : {}),
        }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(piece, undefined, undefined, undefined, undefined, {
        chunk,
      });
    }
  }
}

function toolCallChunks(message: AIMessage) {
  return (message.tool_calls ?? []).map((t, index) => ({
    name: t.name,
    args: JSON.stringify(t.args),
    id: t.id,
    index,
    type: 'tool_call_chunk' as const,
  }));
}

function toChunk(message: AIMessage): ChatGenerationChunk {
  return new ChatGenerationChunk({
    text: String(message.content),
    message: new AIMessageChunk({
      content: message.content,
      tool_call_chunks: toolCallChunks(message),
      ...(message.usage_metadata ? { usage_metadata: message.usage_metadata } : {}),
    }),
  });
}
