import { defaultReply } from './responder.js';
import { countTextTokens, type TokenPiece, truncateToTokens } from './tokenizer.js';
import type { Content, Part, Tool } from './types.js';

/**
 * What the OpenAI and Anthropic stand-ins share: their prompts read as Gemini-style turns (so
 * one tokenizer, documented in `tokenizer.ts`, counts every stand-in's prompts), the scripted
 * or deterministic reply, and its cut at the request's output maximum.
 */

/** What a scripted `respond` of the OpenAI or Anthropic stand-in is given. */
export interface ChatStandInRequest {
  /** The body's `model`. */
  model: string;
  /** `chat.completions`, `responses` or `messages`. */
  operation: string;
  /** Text of the last user turn. */
  text: string;
  /** All prompt text: system / instructions, then every turn, joined by newlines. */
  promptText: string;
  /** The request body as sent. */
  body: Record<string, unknown>;
  stream: boolean;
}

/** A tool the model calls: its name and its arguments. */
export interface ChatStandInToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * What `respond` may return: the reply text, `{ text, finishReason, toolCall }`, or `undefined`
 * for the built-in deterministic reply. A `toolCall` is honoured only when the request declares
 * tools, as with the real APIs; the reply then stops for the tool (no default text).
 */
export type ChatStandInReply =
  | string
  | { text?: string; finishReason?: string; toolCall?: ChatStandInToolCall }
  | undefined;

/** A provider's message content block as a Gemini-style part, for counting. */
function partOf(block: unknown): Part {
  if (typeof block === 'string') return { text: block };
  if (typeof block !== 'object' || block === null) return { text: String(block) };
  const fields = block as Record<string, unknown>;
  if (typeof fields.text === 'string') return { text: fields.text };
  const imageUrl = fields.image_url;
  if (imageUrl !== undefined) {
    const url =
      typeof imageUrl === 'string' ? imageUrl : String((imageUrl as { url?: unknown }).url ?? '');
    return { fileData: { mimeType: 'image/*', fileUri: url } };
  }
  const source = fields.source as { media_type?: unknown; data?: unknown; url?: unknown } | null;
  if ((fields.type === 'image' || fields.type === 'document') && source) {
    const mimeType = typeof source.media_type === 'string' ? source.media_type : 'image/*';
    return { inlineData: { mimeType, data: String(source.data ?? source.url ?? '') } };
  }
  if (fields.type === 'input_audio') return { inlineData: { mimeType: 'audio/*', data: '' } };
  return { block };
}

/** One turn (`{ role, content }`, content a string or blocks) as a Gemini-style turn. */
export function turnOf(role: unknown, content: unknown): Content {
  const blocks = Array.isArray(content) ? content : content == null ? [] : [content];
  return { role: typeof role === 'string' ? role : 'user', parts: blocks.map(partOf) };
}

/** Text of a turn's text parts. */
export function turnText(turn: Content | undefined): string {
  return (turn?.parts ?? [])
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** What a `respond` script sees of a chat request: its last user turn and all its prompt text. */
export function requestView(
  request: { model: string; operation: string; stream: boolean },
  body: Record<string, unknown>,
  system: Content | undefined,
  turns: readonly Content[],
): ChatStandInRequest {
  const lastUser = [...turns].reverse().find((turn) => turn.role === 'user');
  return {
    model: request.model,
    operation: request.operation,
    text: turnText(lastUser),
    promptText: [system, ...turns].map(turnText).filter(Boolean).join('\n'),
    body,
    stream: request.stream,
  };
}

/** Tool definitions as Gemini-style tools, counted as the text of their JSON. */
export function toolsOf(tools: unknown): Tool[] | undefined {
  return Array.isArray(tools) ? tools.map((tool) => ({ definition: tool })) : undefined;
}

/** Total tokens of pieces. */
export function piecesTokens(pieces: readonly TokenPiece[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.tokens;
  return total;
}

/** A reply decided: its text, tokens, reasoning and why it stopped. */
export interface ComposedReply {
  text: string;
  /** Visible text tokens. */
  textTokens: number;
  /** Reasoning (thinking) tokens, billed as output too. */
  reasoningTokens: number;
  /** Whether the output maximum cut the reply. */
  cut: boolean;
  /** A scripted finish reason, when `respond` gave one. */
  finishReason?: string;
  /** The tool called, when `respond` asked for one and the request declares tools. */
  toolCall?: ChatStandInToolCall;
  /** Tokens of the tool call (its name and arguments as JSON), billed as output. */
  toolTokens: number;
}

/**
 * The reply to a request: `respond`'s text or the deterministic one, after `reasoning` tokens
 * (which spend the output maximum first, as on the real reasoning models), cut at `maxTokens`.
 */
export async function composeReply(
  request: ChatStandInRequest,
  respond:
    | ((request: ChatStandInRequest) => ChatStandInReply | Promise<ChatStandInReply>)
    | undefined,
  reasoning: number,
  maxTokens: number | undefined,
): Promise<ComposedReply> {
  const raw = respond ? await respond(request) : undefined;
  const reply = typeof raw === 'string' ? { text: raw } : (raw ?? {});
  const tools = request.body.tools;
  const toolCall =
    reply.toolCall !== undefined && Array.isArray(tools) && tools.length > 0
      ? reply.toolCall
      : undefined;
  let text = reply.text ?? (toolCall ? '' : defaultReply(request.model, request.promptText));
  let reasoningTokens = reasoning;
  let cut = false;
  if (maxTokens !== undefined) {
    reasoningTokens = Math.min(reasoningTokens, maxTokens);
    const kept = truncateToTokens(text, maxTokens - reasoningTokens);
    cut = kept.cut;
    text = kept.text;
  }
  const composed: ComposedReply = {
    text,
    textTokens: countTextTokens(text),
    reasoningTokens,
    cut,
    toolTokens: toolCall ? countTextTokens(JSON.stringify(toolCall)) : 0,
  };
  if (reply.finishReason !== undefined) composed.finishReason = reply.finishReason;
  if (toolCall) composed.toolCall = toolCall;
  return composed;
}

/** A positive integer field of a body, or undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
