/**
 * Wire shapes of the Gemini REST API, as far as the stand-in reads or writes them.
 * Deliberately loose (index signatures): requests come from two SDKs and several API versions.
 */

/** A modality name as the API spells it in `*TokensDetails`. */
export type WireModality = 'TEXT' | 'IMAGE' | 'AUDIO' | 'VIDEO' | 'DOCUMENT';

/** `{ modality, tokenCount }`, an entry of a `*TokensDetails` array. */
export interface ModalityTokenCount {
  modality: WireModality;
  tokenCount: number;
}

/** A function call the model asks for. */
export interface FunctionCall {
  name: string;
  args?: Record<string, unknown>;
  id?: string;
}

/** One part of a `Content`. */
export interface Part {
  text?: string;
  thought?: boolean;
  functionCall?: FunctionCall;
  functionResponse?: unknown;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
  [key: string]: unknown;
}

/** A turn: `{ role, parts }`. */
export interface Content {
  role?: string;
  parts?: Part[];
}

/** A tool entry of a request; only `functionDeclarations` is interpreted. */
export interface Tool {
  functionDeclarations?: { name: string; description?: string; parameters?: unknown }[];
  [key: string]: unknown;
}

/** `generationConfig`; only the fields the stand-in honours are typed. */
export interface GenerationConfig {
  maxOutputTokens?: number;
  thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean; thinkingLevel?: string };
  [key: string]: unknown;
}

/** The JSON body of `generateContent` / `streamGenerateContent`. */
export interface GenerateContentBody {
  contents?: Content[];
  systemInstruction?: Content | string;
  tools?: Tool[];
  generationConfig?: GenerationConfig;
  [key: string]: unknown;
}

/** `usageMetadata` exactly as the API spells it. */
export interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  promptTokensDetails?: ModalityTokenCount[];
  cacheTokensDetails?: ModalityTokenCount[];
  candidatesTokensDetails?: ModalityTokenCount[];
  trafficType?: string;
  /** The Gemini API's tier (`standard`, `flex`, `priority`); Vertex reports `trafficType`. */
  serviceTier?: string;
}

/** A `GenerateContentResponse` (one unary body or one SSE chunk). */
export interface GenerateContentResponse {
  candidates?: {
    content: Content;
    finishReason?: string;
    index: number;
  }[];
  usageMetadata?: UsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** What a scripted `respond` function is given. */
export interface StandInRequest {
  /** Model id without the `models/` prefix, e.g. `gemini-2.5-flash`. */
  model: string;
  /** Text of the last `user` turn (its text parts joined). */
  text: string;
  /** All prompt text: system instruction, then every turn, joined by newlines. */
  promptText: string;
  contents: Content[];
  generationConfig: GenerationConfig | undefined;
  systemInstruction: Content | undefined;
  tools: Tool[] | undefined;
  /** True for `streamGenerateContent`. */
  stream: boolean;
  /** The request's `serviceTier` (what @google/genai sends for `config.serviceTier`), if any. */
  serviceTier: string | undefined;
}

/**
 * What `respond` may return: a string (the reply text), an object, or `undefined` to fall back to
 * the built-in deterministic reply. A `functionCall` is only honoured when the request declares
 * functions (`tools[].functionDeclarations`), as with the real API.
 */
export type StandInReply =
  | string
  | {
      text?: string;
      functionCall?: FunctionCall | FunctionCall[];
      /** Overrides the finish reason, e.g. `'SAFETY'`. */
      finishReason?: string;
    }
  | undefined;

/** A scripted HTTP failure for the next request(s). */
export interface StandInFailure {
  /** HTTP status of the error reply (default 500). Ignored when `afterChunks` is set. */
  status?: number;
  /** `error.message` of the error body. */
  message?: string;
  /**
   * Instead of an HTTP error: send this many SSE chunks, then destroy the socket (a stream that
   * dies midway). A unary request is cut before any byte of the reply.
   */
  afterChunks?: number;
  /** How many consecutive requests fail this way (default 1). */
  times?: number;
}

/**
 * A recorded response to serve: a file path (JSON body, or `.sse` / `.txt` SSE; `.statusNNN.json`
 * sets the status), a file with an explicit status, or an inline JSON body or list of SSE chunks.
 */
export type ReplaySource =
  | string
  | { file: string; status?: number }
  | { body: unknown; status?: number }
  | { chunks: unknown[]; status?: number };

/** One request the stand-in received. */
export interface RecordedRequest {
  /** HTTP method (always `POST` for the model routes). */
  method: string;
  /** Path and query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`. */
  path: string;
  /** `v1`, `v1beta` or `v1alpha` (empty for unknown routes). */
  apiVersion: string;
  /** Model id without `models/` (empty for unknown routes). */
  model: string;
  /** `generateContent`, `streamGenerateContent` or `countTokens` (empty for unknown routes). */
  action: string;
  stream: boolean;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  /** `x-goog-api-key` header, or the `key` query parameter. */
  apiKey: string | undefined;
  /** Parsed JSON body (`undefined` when absent or not JSON). */
  body: unknown;
  /** HTTP status sent: 200 for a stream, even one cut midway; 0 when cut before any reply. */
  status: number;
  /** Where the reply came from. */
  source: 'generated' | 'replay' | 'failure' | 'error';
  /** The last `usageMetadata` sent (the final chunk's for a stream), when any. */
  usageMetadata?: UsageMetadata;
}
