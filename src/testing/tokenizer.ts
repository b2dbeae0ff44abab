import { countTextWordTokens, wordTokens } from '../react/budgets/words.js';
import type {
  Content,
  GenerateContentBody,
  ModalityTokenCount,
  Part,
  WireModality,
} from './types.js';

/**
 * The stand-in's tokenizer: a documented, deterministic approximation of Gemini's.
 *
 * - Text: split on whitespace; each word costs `ceil(length / 4)` tokens (length in code points),
 *   so every word costs at least 1. Whitespace is free. `"Hello brave new world"` → 2+2+1+2 = 7.
 * - A media part (`inlineData` / `fileData`) costs a flat 258 tokens, itemised as IMAGE, AUDIO,
 *   VIDEO or DOCUMENT from its MIME type (258 is what Gemini charges per image).
 * - Structured parts and tools (`functionCall`, `functionResponse`, function declarations, …) are
 *   counted as the text of their JSON.
 *
 * A prompt is counted as system instruction, then tools, then the turns in order. `countTokens`
 * and `promptTokenCount` use the same function, so they always agree.
 */

/** Tokens a media part costs. */
export const MEDIA_PART_TOKENS = 258;

/** One unit of a prompt, for prefix matching (implicit cache): a word or a media part. */
export interface TokenPiece {
  key: string;
  tokens: number;
  modality: WireModality;
}

const WORD = /\S+/g;

/**
 * Tokens of a text under the rule above.
 *
 * @example
 * countTextTokens('Hello brave new world'); // 7
 * countTextTokens(''); // 0
 */
export function countTextTokens(text: string): number {
  return countTextWordTokens(text);
}

/**
 * Cuts a text to at most `maxTokens` tokens, at a word boundary.
 *
 * @example
 * truncateToTokens('one two three', 3); // { text: 'one two', cut: true, tokens: 2 } ('three' costs 2)
 */
export function truncateToTokens(
  text: string,
  maxTokens: number,
): { text: string; cut: boolean; tokens: number } {
  let tokens = 0;
  let end = 0;
  for (const match of text.matchAll(WORD)) {
    const cost = wordTokens(match[0]);
    if (tokens + cost > maxTokens) return { text: text.slice(0, end), cut: true, tokens };
    tokens += cost;
    end = match.index + match[0].length;
  }
  return { text, cut: false, tokens };
}

function textPieces(text: string, into: TokenPiece[]): void {
  for (const word of text.match(WORD) ?? []) {
    into.push({ key: word, tokens: wordTokens(word), modality: 'TEXT' });
  }
}

function mediaModality(mimeType: string | undefined): WireModality {
  const type = (mimeType ?? '').split('/')[0];
  if (type === 'image') return 'IMAGE';
  if (type === 'audio') return 'AUDIO';
  if (type === 'video') return 'VIDEO';
  return 'DOCUMENT';
}

function partPieces(part: Part, into: TokenPiece[]): void {
  const media = part.inlineData ?? part.fileData;
  if (media) {
    const id = part.inlineData?.data ?? part.fileData?.fileUri ?? '';
    into.push({
      key: `\u0000media:${media.mimeType ?? ''}:${id.length}:${id.slice(0, 64)}`,
      tokens: MEDIA_PART_TOKENS,
      modality: mediaModality(media.mimeType),
    });
  }
  for (const [field, value] of Object.entries(part)) {
    if (field === 'text' && typeof value === 'string') textPieces(value, into);
    else if (field !== 'inlineData' && field !== 'fileData' && typeof value === 'object') {
      textPieces(JSON.stringify(value), into);
    }
  }
}

function contentPieces(content: Content | string, into: TokenPiece[]): void {
  if (typeof content === 'string') {
    textPieces(content, into);
    return;
  }
  // A zero-cost marker keeps turn boundaries significant for prefix matching.
  into.push({ key: `\u0000turn:${content.role ?? ''}`, tokens: 0, modality: 'TEXT' });
  for (const part of content.parts ?? []) partPieces(part, into);
}

/**
 * The prompt of a request as token pieces: system instruction, tools, then every turn.
 *
 * @example
 * sumPieces(promptPieces({ contents: [{ role: 'user', parts: [{ text: 'Hi there' }] }] })).total; // 3
 */
export function promptPieces(body: GenerateContentBody): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  if (body.systemInstruction !== undefined) contentPieces(body.systemInstruction, pieces);
  for (const tool of body.tools ?? []) textPieces(JSON.stringify(tool), pieces);
  for (const content of body.contents ?? []) contentPieces(content, pieces);
  return pieces;
}

/**
 * Total tokens of pieces and their per-modality breakdown (TEXT first, only non-zero entries).
 *
 * @example
 * sumPieces(promptPieces({ contents: [{ parts: [{ text: 'Hi' }] }] })); // { total: 1, details: [{ modality: 'TEXT', tokenCount: 1 }] }
 */
export function sumPieces(pieces: readonly TokenPiece[]): {
  total: number;
  details: ModalityTokenCount[];
} {
  const by = new Map<WireModality, number>([['TEXT', 0]]);
  let total = 0;
  for (const piece of pieces) {
    total += piece.tokens;
    by.set(piece.modality, (by.get(piece.modality) ?? 0) + piece.tokens);
  }
  const details = [...by]
    .filter(([, tokenCount]) => tokenCount > 0)
    .map(([modality, tokenCount]) => ({ modality, tokenCount }));
  return { total, details };
}

/**
 * Tokens of a request's prompt: what `countTokens` answers and `promptTokenCount` reports.
 *
 * @example
 * countPromptTokens({ contents: [{ role: 'user', parts: [{ text: 'Hello brave new world' }] }] }); // 7
 */
export function countPromptTokens(body: GenerateContentBody): number {
  return sumPieces(promptPieces(body)).total;
}
