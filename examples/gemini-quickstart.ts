/**
 * tollgate/gemini in one line: wrap the client, call Gemini as usual, read the report.
 *
 *   npx tsx examples/gemini-quickstart.ts                     # offline, against the stand-in
 *   GEMINI_API_KEY=... npx tsx examples/gemini-quickstart.ts  # the real API
 */
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { trackGemini } from '../src/gemini/index.js';
import { TokenTracker } from '../src/index.js';
import { startGeminiStandIn } from '../src/testing/index.js';

const apiKey = process.env.GEMINI_API_KEY;
const standIn = apiKey ? undefined : await startGeminiStandIn();
if (standIn) console.log(`No GEMINI_API_KEY: using the local stand-in at ${standIn.baseUrl}\n`);

const tracker = new TokenTracker({ budgetLimitUsd: 0.05 });

try {
  // @google/genai: the only change is trackGemini(...) around the client.
  const ai = trackGemini(
    new GoogleGenAI({
      apiKey: apiKey ?? 'offline-key',
      ...(standIn ? { httpOptions: { baseUrl: standIn.baseUrl } } : {}),
    }),
    { tracker, agent: 'planner' },
  );
  const reply = await ai.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: 'In one sentence: why track LLM tokens per agent?',
  });
  console.log('unary:', reply.text);

  const stream = await ai.models.generateContentStream({
    model: 'gemini-2.5-flash',
    contents: 'List three ways to cut LLM costs.',
  });
  process.stdout.write('stream: ');
  for await (const chunk of stream) process.stdout.write(chunk.text ?? '');
  process.stdout.write('\n');

  // @google/generative-ai: same one line around a GenerativeModel.
  const model = trackGemini(
    new GoogleGenerativeAI(apiKey ?? 'offline-key').getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      standIn ? { baseUrl: standIn.baseUrl } : {},
    ),
    { tracker, agent: 'writer' },
  );
  const { response } = await model.generateContent('Write a two-word title for a cost report.');
  console.log('legacy SDK:', response.text().trim(), '\n');

  console.log(tracker.getCostBreakdownReport());
} finally {
  await standIn?.close();
}
