import { describe, expect, it } from 'vitest';
import {
  countPromptTokens,
  countTextTokens,
  defaultReply,
  MEDIA_PART_TOKENS,
  THINKING_MODEL,
  truncateToTokens,
} from '../../src/testing/index.js';

describe('countTextTokens: ceil(length / 4) per whitespace-separated word', () => {
  it.each([
    ['', 0],
    ['   \n\t ', 0],
    ['a', 1],
    ['four', 1],
    ['fives', 2],
    ['Hello brave new world', 7],
    ['supercalifragilistic', 5],
    ['日本語のテキスト', 2],
    ['  spaced   out  ', 3],
  ])('%j → %i', (text, tokens) => {
    expect(countTextTokens(text)).toBe(tokens);
  });
});

describe('truncateToTokens', () => {
  it('cuts at a word boundary without exceeding the budget', () => {
    // 'three' has 5 characters, so it costs 2 tokens.
    expect(truncateToTokens('one two three', 3)).toEqual({ text: 'one two', cut: true, tokens: 2 });
    expect(truncateToTokens('one two three', 4)).toEqual({
      text: 'one two three',
      cut: false,
      tokens: 4,
    });
    expect(truncateToTokens('elephants', 1)).toEqual({ text: '', cut: true, tokens: 0 });
  });
});

describe('countPromptTokens', () => {
  it('counts system instruction, tools and every turn; media parts cost a flat 258', () => {
    const body = {
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        {
          role: 'user',
          parts: [{ text: 'Hello there' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
        },
        { role: 'model', parts: [{ text: 'Hi' }] },
      ],
    };
    expect(countPromptTokens(body)).toBe(1 + 2 + 2 + 2 + MEDIA_PART_TOKENS + 1);
    const withTool = { ...body, tools: [{ functionDeclarations: [{ name: 'lookup' }] }] };
    expect(countPromptTokens(withTool)).toBeGreaterThan(countPromptTokens(body));
  });
});

describe('THINKING_MODEL', () => {
  it.each([
    ['gemini-2.5-flash', true],
    ['gemini-2.5-pro', true],
    ['models/gemini-2.5-flash-lite', true],
    ['gemini-3-pro-preview', true],
    ['gemini-3.0-flash', true],
    ['gemini-2.0-flash-thinking-exp', true],
    ['gemini-2.0-flash', false],
    ['gemini-1.5-flash-003', false],
    ['gemini-1.5-pro', false],
  ])('%s → %s', (model, thinks) => {
    expect(THINKING_MODEL.test(model)).toBe(thinks);
  });
});

describe('defaultReply', () => {
  it('is a pure function of model and prompt', () => {
    expect(defaultReply('gemini-2.0-flash', 'Hi')).toBe(defaultReply('gemini-2.0-flash', 'Hi'));
    const replies = new Set(
      ['a', 'b', 'c', 'd', 'e'].map((p) => defaultReply('gemini-2.0-flash', p)),
    );
    expect(replies.size).toBeGreaterThan(1);
  });
});
