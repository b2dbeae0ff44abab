/**
 * `tollgate/testing`: local Gemini, OpenAI and Anthropic stand-ins for tests and offline
 * examples.
 *
 * @example
 * import { startGeminiStandIn } from 'tollgate/testing';
 * const standIn = await startGeminiStandIn();
 * const ai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: standIn.baseUrl } });
 * await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
 * await standIn.close();
 */
export {
  type AnthropicStandIn,
  type AnthropicStandInOptions,
  anthropicErrorBody,
  startAnthropicStandIn,
} from './anthropic-stand-in.js';
export type {
  ChatStandInReply,
  ChatStandInRequest,
  ChatStandInToolCall,
} from './conversation.js';
export {
  type GeminiStandIn,
  type GeminiStandInOptions,
  startGeminiStandIn,
} from './gemini-stand-in.js';
export { defaultThoughtsTokens, THINKING_MODEL } from './generate.js';
export type { ProviderRecordedRequest } from './http.js';
export {
  type OpenAIStandIn,
  type OpenAIStandInOptions,
  openAIErrorBody,
  startOpenAIStandIn,
} from './openai-stand-in.js';
export { loadRecordedResponse, type RecordedResponse, sseEvents } from './replay.js';
export { defaultReply } from './responder.js';
export {
  countPromptTokens,
  countTextTokens,
  MEDIA_PART_TOKENS,
  truncateToTokens,
} from './tokenizer.js';
export type {
  Content,
  FunctionCall,
  GenerateContentBody,
  GenerateContentResponse,
  GenerationConfig,
  ModalityTokenCount,
  Part,
  RecordedRequest,
  ReplaySource,
  StandInFailure,
  StandInReply,
  StandInRequest,
  Tool,
  UsageMetadata,
  WireModality,
} from './types.js';
