import { defaultReply, thoughtSummary } from './responder.js';
import {
  countTextTokens,
  promptPieces,
  sumPieces,
  type TokenPiece,
  truncateToTokens,
} from './tokenizer.js';
import type {
  Content,
  FunctionCall,
  GenerateContentBody,
  GenerateContentResponse,
  ModalityTokenCount,
  Part,
  StandInReply,
  StandInRequest,
  UsageMetadata,
} from './types.js';

/** The knobs `generate` needs, already resolved from the stand-in's options. */
export interface GenerateSettings {
  isThinking: (model: string) => boolean;
  thoughtsTokens: (info: { model: string; promptTokenCount: number }) => number;
  /** Shared-prefix size (tokens) from which a prompt counts as an implicit cache hit. */
  cacheMinTokens: number;
  streamChunks: number;
  vertexStyle: boolean;
  respond?: (request: StandInRequest) => StandInReply | Promise<StandInReply>;
  /** The `usageMetadata.serviceTier` to report (Gemini API style), if any. */
  serviceTier?: (request: StandInRequest) => string | undefined;
  /** The `usageMetadata.trafficType` to report (Vertex style), if any. */
  trafficType?: (request: StandInRequest) => string | undefined;
}

/** Vertex's `trafficType` for a requested tier. */
const TRAFFIC_OF_TIER: Readonly<Record<string, string>> = {
  flex: 'ON_DEMAND_FLEX',
  priority: 'ON_DEMAND_PRIORITY',
};

/**
 * The tier fields of a reply's usage: the stand-in's `serviceTier` / `trafficType` options, else
 * what the request asked for: Gemini API style reports the requested `serviceTier` as sent;
 * Vertex style reports `ON_DEMAND`, `ON_DEMAND_FLEX` or `ON_DEMAND_PRIORITY`.
 */
function tierFields(
  request: StandInRequest,
  settings: GenerateSettings,
): { serviceTier?: string; trafficType?: string } {
  const requested = request.serviceTier;
  const fields: { serviceTier?: string; trafficType?: string } = {};
  const serviceTier = settings.serviceTier
    ? settings.serviceTier(request)
    : settings.vertexStyle
      ? undefined
      : requested;
  if (serviceTier !== undefined) fields.serviceTier = serviceTier;
  const trafficType = settings.trafficType
    ? settings.trafficType(request)
    : settings.vertexStyle
      ? (TRAFFIC_OF_TIER[requested?.toLowerCase() ?? ''] ?? 'ON_DEMAND')
      : undefined;
  if (trafficType !== undefined) fields.trafficType = trafficType;
  return fields;
}

/** Default thinking rule: Gemini 2.5, Gemini 3.x, and any model named `…thinking…`. */
export const THINKING_MODEL = /(?:^|[-/])(?:2\.5|3(?:\.\d+)?)(?:-|$)|thinking/i;

/** Default thoughts for a thinking model: `16 + ceil(promptTokenCount / 2)`. */
export const defaultThoughtsTokens = (info: { promptTokenCount: number }): number =>
  16 + Math.ceil(info.promptTokenCount / 2);

/**
 * Remembers each model's earlier prompts (as token pieces) to detect implicit cache hits: the
 * longest prefix a new prompt shares with any earlier prompt to the same model.
 */
export class PrefixCache {
  private readonly seen = new Map<string, TokenPiece[][]>();

  constructor(private readonly perModel = 256) {}

  /** The longest prefix of `pieces` that an earlier prompt to `model` started with. */
  longestPrefix(model: string, pieces: readonly TokenPiece[]): TokenPiece[] {
    let best = 0;
    for (const earlier of this.seen.get(model) ?? []) {
      const n = Math.min(earlier.length, pieces.length);
      let i = 0;
      while (i < n && earlier[i]?.key === pieces[i]?.key) i++;
      best = Math.max(best, i);
    }
    return pieces.slice(0, best);
  }

  remember(model: string, pieces: TokenPiece[]): void {
    const list = this.seen.get(model) ?? [];
    list.push(pieces);
    if (list.length > this.perModel) list.shift();
    this.seen.set(model, list);
  }

  clear(): void {
    this.seen.clear();
  }
}

interface Counts {
  prompt: { total: number; details: ModalityTokenCount[] };
  cached: { total: number; details: ModalityTokenCount[] };
  thoughts: number;
}

/** Builds a usageMetadata; the identity total = prompt + candidates + thoughts always holds. */
function usageOf(counts: Counts, candidates: number): UsageMetadata {
  const { prompt, cached, thoughts } = counts;
  const usage: UsageMetadata = { promptTokenCount: prompt.total };
  if (candidates > 0) usage.candidatesTokenCount = candidates;
  usage.totalTokenCount = prompt.total + candidates + thoughts;
  if (cached.total > 0) usage.cachedContentTokenCount = cached.total;
  usage.promptTokensDetails = prompt.details;
  if (cached.total > 0) usage.cacheTokensDetails = cached.details;
  if (candidates > 0)
    usage.candidatesTokensDetails = [{ modality: 'TEXT', tokenCount: candidates }];
  if (thoughts > 0) usage.thoughtsTokenCount = thoughts;
  return usage;
}

function textOf(content: Content | string | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return (content.parts ?? [])
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** Splits a text at word starts into at most `k` pieces that concatenate back to it. */
export function splitText(text: string, k: number): string[] {
  const starts = [...text.matchAll(/\S+/g)].map((match) => match.index);
  if (starts.length === 0) return text ? [text] : [];
  const n = Math.max(1, Math.min(k, starts.length));
  const cuts = [0];
  for (let i = 1; i < n; i++) cuts.push(starts[Math.floor((i * starts.length) / n)] ?? text.length);
  cuts.push(text.length);
  return cuts.slice(0, -1).map((cut, i) => text.slice(cut, cuts[i + 1]));
}

/** The view of a request that `respond` gets. */
function requestView(model: string, body: GenerateContentBody, stream: boolean): StandInRequest {
  const contents = body.contents ?? [];
  const system =
    typeof body.systemInstruction === 'string'
      ? { parts: [{ text: body.systemInstruction }] }
      : body.systemInstruction;
  const lastUser = [...contents].reverse().find((content) => content.role !== 'model');
  return {
    model,
    text: textOf(lastUser),
    promptText: [textOf(system), ...contents.map((content) => textOf(content))]
      .filter(Boolean)
      .join('\n'),
    contents,
    generationConfig: body.generationConfig,
    systemInstruction: system,
    tools: body.tools,
    stream,
    serviceTier: typeof body.serviceTier === 'string' ? body.serviceTier : undefined,
  };
}

interface Answer {
  text: string;
  calls: FunctionCall[];
  thought: string;
  thoughts: number;
  finishReason: string;
}

/** Decides the reply: text or function calls, thoughts, and the cut at maxOutputTokens. */
async function answer(
  request: StandInRequest,
  promptTokenCount: number,
  settings: GenerateSettings,
): Promise<Answer> {
  const { model, promptText, tools } = request;
  const raw = settings.respond ? await settings.respond(request) : undefined;
  const reply = typeof raw === 'string' ? { text: raw } : (raw ?? {});
  const declared = (tools ?? []).some((tool) => (tool.functionDeclarations?.length ?? 0) > 0);
  const calls: FunctionCall[] = declared && reply.functionCall ? [reply.functionCall].flat() : [];
  let text = reply.text ?? (calls.length > 0 ? '' : defaultReply(model, promptText));

  const config = request.generationConfig ?? {};
  const budget = config.thinkingConfig?.thinkingBudget;
  let thoughts =
    settings.isThinking(model) && budget !== 0
      ? settings.thoughtsTokens({ model, promptTokenCount })
      : 0;
  if (budget !== undefined && budget > 0) thoughts = Math.min(thoughts, budget);
  let finishReason = reply.finishReason ?? 'STOP';
  const max = config.maxOutputTokens;
  if (typeof max === 'number' && max > 0) {
    // As on Gemini 2.5+, thinking spends the output budget first.
    thoughts = Math.min(thoughts, max);
    const cut = truncateToTokens(text, max - thoughts);
    if (cut.cut) {
      text = cut.text;
      finishReason = 'MAX_TOKENS';
    }
  }
  const thought =
    config.thinkingConfig?.includeThoughts && thoughts > 0
      ? truncateToTokens(thoughtSummary(model, promptText), thoughts).text
      : '';
  return { text, calls, thought, thoughts, finishReason };
}

/** The parts of each chunk (one group for a unary reply) and their candidate tokens. */
function partGroups(reply: Answer, stream: boolean, streamChunks: number) {
  const groups: { parts: Part[]; tokens: number }[] = [];
  if (reply.thought) groups.push({ parts: [{ text: reply.thought, thought: true }], tokens: 0 });
  const texts = stream ? splitText(reply.text, streamChunks) : reply.text ? [reply.text] : [];
  for (const text of texts) groups.push({ parts: [{ text }], tokens: countTextTokens(text) });
  if (reply.calls.length > 0) {
    groups.push({
      parts: reply.calls.map((functionCall) => ({ functionCall })),
      tokens: reply.calls.reduce((sum, call) => sum + countTextTokens(JSON.stringify(call)), 0),
    });
  }
  if (!stream && groups.length > 1) {
    return [
      {
        parts: groups.flatMap((group) => group.parts),
        tokens: groups.reduce((sum, group) => sum + group.tokens, 0),
      },
    ];
  }
  return groups.length > 0 ? groups : [{ parts: [], tokens: 0 }];
}

/**
 * Answers one generateContent / streamGenerateContent request: the unary body (one element) or
 * the SSE chunks, each with cumulative usage. Also records the prompt in `cache`.
 */
export async function generate(
  model: string,
  body: GenerateContentBody,
  stream: boolean,
  settings: GenerateSettings,
  cache: PrefixCache,
  responseId: string,
): Promise<GenerateContentResponse[]> {
  const pieces = promptPieces(body);
  const prompt = sumPieces(pieces);
  let cached = sumPieces(cache.longestPrefix(model, pieces));
  if (cached.total === 0 || cached.total < settings.cacheMinTokens) cached = sumPieces([]);
  cache.remember(model, pieces);

  const request = requestView(model, body, stream);
  const reply = await answer(request, prompt.total, settings);
  const tier = tierFields(request, settings);
  const trafficOnly = tier.trafficType === undefined ? {} : { trafficType: tier.trafficType };
  const counts: Counts = { prompt, cached, thoughts: reply.thoughts };
  const groups = partGroups(reply, stream, settings.streamChunks);
  let candidates = 0;
  return groups.map((group, i) => {
    candidates += group.tokens;
    const last = i === groups.length - 1;
    const content: Content =
      group.parts.length > 0 ? { parts: group.parts, role: 'model' } : { role: 'model' };
    let usageMetadata: UsageMetadata = { ...usageOf(counts, candidates), ...tier };
    // Vertex streams: the counts only on the last chunk, the traffic type on every one.
    if (settings.vertexStyle && !last) usageMetadata = trafficOnly;
    const candidate = last
      ? { content, finishReason: reply.finishReason, index: 0 }
      : { content, index: 0 };
    return { candidates: [candidate], usageMetadata, modelVersion: model, responseId };
  });
}
