/**
 * The word rule of local token counts, without dependencies: `tollgate/testing`'s Gemini
 * stand-in bills by it, and hard session budgets estimate prompts with it.
 */

/** Tokens of one word by the word rule (see `countWordTokens`). */
export function wordTokens(word: string): number {
  return Math.max(1, Math.ceil(codePoints(word, 0, word.length) / 4));
}

/**
 * Tokens of one text by the word rule (see `countWordTokens`): the words are the runs of
 * non-whitespace (what `/\S+/g` matches), each `ceil(code points / 4)` tokens. One pass, no
 * allocation: it runs before every call under a hard budget.
 */
export function countTextWordTokens(text: string): number {
  let total = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const space = i === text.length || isSpace(text.charCodeAt(i));
    if (space && start >= 0) {
      total += Math.ceil(codePoints(text, start, i) / 4);
      start = -1;
    } else if (!space && start < 0) start = i;
  }
  return total;
}

/** Code points in text[from, to): a surrogate pair is one, a lone surrogate one too. */
function codePoints(text: string, from: number, to: number): number {
  let count = to - from;
  for (let i = from + 1; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc00 && code <= 0xdfff) {
      const before = text.charCodeAt(i - 1);
      if (before >= 0xd800 && before <= 0xdbff) count -= 1;
    }
  }
  return count;
}

/** The characters `\s` matches in a JavaScript regular expression. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
