/**
 * Deterministic reply text: a pure function of (model, prompt text), so the same request always
 * gets the same answer and different prompts usually get different ones.
 */

const SENTENCES = [
  'The request was received and read with care.',
  'Tokens are counted the same way every time.',
  'A budget is only useful when every call is measured.',
  'Streaming replies arrive in several small pieces.',
  'Each chunk carries the running totals so far.',
  'Cached input is cheaper than fresh input.',
  'Thinking tokens are billed as output.',
  'The graph visits each node in a predictable order.',
  'Small models answer quickly and cost little.',
  'A careful plan saves more than it costs.',
  'The answer depends only on the model and the prompt.',
  'Prices are data, not code.',
  'Every reply here comes from a local stand-in server.',
  'Nothing in this answer left the machine.',
  'Totals add up: prompt, candidates, thoughts and tool use.',
  'Long prompts that share a prefix hit the implicit cache.',
  'A test that needs no network is a test that never flakes.',
  'Agents that share a budget must settle their spending.',
  'The supervisor hands the task to the right worker.',
  'Reports group the spend by agent, node and thread.',
  'Errors are part of the contract and are tested too.',
  'The last chunk of a stream holds the final usage.',
  'Deterministic answers make assertions simple.',
  'Counting words is a fair stand-in for a tokenizer.',
];

const THOUGHTS = [
  '**Reading the question**\n\nI am working out what is being asked.',
  '**Planning the answer**\n\nI will keep the reply short and concrete.',
  '**Checking the details**\n\nThe numbers have to add up before I answer.',
  '**Choosing the words**\n\nA plain sentence or two should do.',
];

/**
 * 32-bit FNV-1a hash of strings (joined by NUL), the seed of the generator below.
 *
 * @example
 * seedOf('gemini-2.5-flash', 'Hello') === seedOf('gemini-2.5-flash', 'Hello'); // true
 */
export function seedOf(...parts: string[]): number {
  let hash = 0x811c9dc5;
  for (const char of parts.join('\u0000')) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * A seeded pseudo-random generator (mulberry32) returning floats in [0, 1).
 *
 * @example
 * const next = seededRandom(42);
 * next(); // always the same first value for seed 42
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(list: readonly T[], next: () => number): T {
  return list[Math.floor(next() * list.length)] as T;
}

/**
 * The built-in reply: 2 to 6 sentences picked from a small vocabulary, seeded by model and prompt
 * (about 20 to 70 tokens). `maxOutputTokens` is applied afterwards by the stand-in, which cuts the
 * text and reports `MAX_TOKENS`.
 *
 * @example
 * defaultReply('gemini-2.0-flash', 'Why is the sky blue?'); // the same 2–6 sentences every time
 */
export function defaultReply(model: string, promptText: string): string {
  const next = seededRandom(seedOf(model, promptText));
  const count = 2 + Math.floor(next() * 5);
  return Array.from({ length: count }, () => pick(SENTENCES, next)).join(' ');
}

/**
 * The thought summary sent as a `thought: true` part when `includeThoughts` is set.
 *
 * @example
 * thoughtSummary('gemini-2.5-flash', 'Hi'); // e.g. '**Planning the answer**\n\nI will keep …'
 */
export function thoughtSummary(model: string, promptText: string): string {
  return pick(THOUGHTS, seededRandom(seedOf('thought', model, promptText)));
}
