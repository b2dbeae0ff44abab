/**
 * The word rule of local token counts, without dependencies: `tollgate/testing`'s Gemini
 * stand-in bills by it, and hard session budgets estimate prompts with it.
 */

const WORD = /\S+/g;

/** Tokens of one word by the word rule (see `countWordTokens`). */
export function wordTokens(word: string): number {
  return Math.max(1, Math.ceil([...word].length / 4));
}

/** Tokens of one text by the word rule (see `countWordTokens`). */
export function countTextWordTokens(text: string): number {
  let total = 0;
  for (const word of text.match(WORD) ?? []) total += wordTokens(word);
  return total;
}
