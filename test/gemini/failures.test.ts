import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { describe, expect, it, vi } from 'vitest';
import { trackGemini } from '../../src/gemini/index.js';
import {
  ConfigurationError,
  InvalidUsageError,
  type RecordInput,
  TokenTracker,
  UnknownModelError,
  type UsageRecord,
} from '../../src/index.js';
import { closeStandIns, standInFor } from './support.js';

closeStandIns();

/** A tracker whose storage fails in a way tollgate did not plan for. */
class BrokenTracker extends TokenTracker {
  attempts = 0;
  override record(_input: RecordInput): UsageRecord | undefined {
    this.attempts += 1;
    throw new Error('disk full');
  }
}

describe('tracking never breaks the caller', () => {
  it('an unexpected recording failure is logged once; every call still succeeds', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const standIn = await standInFor();
      const tracker = new BrokenTracker();
      const ai = trackGemini(
        new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
        { tracker },
      );
      const model = trackGemini(
        new GoogleGenerativeAI('k').getGenerativeModel(
          { model: 'gemini-2.0-flash' },
          { baseUrl: standIn.baseUrl },
        ),
        { tracker },
      );
      const reply = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'A' });
      expect(reply.text?.length).toBeGreaterThan(0);
      for await (const chunk of await ai.models.generateContentStream({
        model: 'gemini-2.0-flash',
        contents: 'B',
      })) {
        expect(chunk).toBeDefined();
      }
      const { response } = await model.generateContent('C');
      expect(response.text().length).toBeGreaterThan(0);
      const streamed = await model.generateContentStream('D');
      for await (const chunk of streamed.stream) expect(chunk).toBeDefined();
      expect((await streamed.response).text().length).toBeGreaterThan(0);
      expect(tracker.attempts).toBe(4);
      expect(errors).toHaveBeenCalledTimes(1);
      expect(String(errors.mock.calls[0]?.[0])).toContain('[tollgate]');
    } finally {
      errors.mockRestore();
    }
  });

  it('strict pricing (opted in): UnknownModelError reaches the caller after the response', async () => {
    const standIn = await standInFor();
    const tracker = new TokenTracker({ pricing: { strict: true } });
    const ai = trackGemini(
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
      { tracker },
    );
    const model = 'in-house-model';
    await expect(ai.models.generateContent({ model, contents: 'Hi' })).rejects.toBeInstanceOf(
      UnknownModelError,
    );
    let chunks = 0;
    const reading = (async () => {
      for await (const _ of await ai.models.generateContentStream({ model, contents: 'Hi' })) {
        chunks += 1;
      }
    })();
    await expect(reading).rejects.toBeInstanceOf(UnknownModelError);
    expect(chunks).toBe(4); // every chunk delivered first
    expect(standIn.requests).toHaveLength(2);
  });

  it('a stream that fails keeps its own error even when recording also fails', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const standIn = await standInFor({ streamFailAfterChunks: 1 });
      const tracker = new TokenTracker({ strictUsage: true, pricing: { strict: true } });
      const ai = trackGemini(
        new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: standIn.baseUrl } }),
        { tracker },
      );
      const reading = (async () => {
        const stream = await ai.models.generateContentStream({ model: 'in-house', contents: 'x' });
        for await (const _ of stream);
      })();
      const failure = await reading.catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(UnknownModelError.isInstance(failure)).toBe(false);
      expect(InvalidUsageError.isInstance(failure)).toBe(false);
    } finally {
      errors.mockRestore();
    }
  });

  it('anything but a Gemini model or client is refused, by the types and at run time', () => {
    const factory = new GoogleGenerativeAI('k');
    // @ts-expect-error the factory is not a GenerativeModel
    expect(() => trackGemini(factory)).toThrow(ConfigurationError);
    // @ts-expect-error nor is a plain object
    expect(() => trackGemini({ model: 'gemini-2.5-flash' })).toThrow(
      /GenerativeModel .* or a GoogleGenAI client/,
    );
  });
});
