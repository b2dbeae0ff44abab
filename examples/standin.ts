/**
 * The Gemini stand-in, offline: both Google SDKs talk to a local server and print the usage it
 * reports. No network, no API key.
 *
 *   npx tsx examples/standin.ts
 */
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import { startGeminiStandIn } from '../src/testing/index.js';

const standIn = await startGeminiStandIn();
console.log(`Gemini stand-in listening on ${standIn.baseUrl}\n`);

try {
  // @google/generative-ai: the base URL goes in the request options.
  const legacy = new GoogleGenerativeAI('offline-key').getGenerativeModel(
    { model: 'gemini-2.0-flash' },
    { baseUrl: standIn.baseUrl },
  );
  const unary = await legacy.generateContent('Why do budgets need exact token counts?');
  console.log('[generative-ai] generateContent:', unary.response.text());
  console.log('  usage:', unary.response.usageMetadata);

  const streamed = await legacy.generateContentStream('Explain streaming usage in one line.');
  for await (const chunk of streamed.stream) {
    console.log('  chunk:', JSON.stringify(chunk.text()), chunk.usageMetadata);
  }
  console.log('  aggregated usage:', (await streamed.response).usageMetadata);

  // @google/genai: the base URL goes in httpOptions. gemini-2.5-flash thinks.
  const ai = new GoogleGenAI({ apiKey: 'offline-key', httpOptions: { baseUrl: standIn.baseUrl } });
  const thinking = await ai.models.generateContent({
    model: 'gemini-2.5-flash',
    contents: 'Plan a three-step research task.',
    config: { thinkingConfig: { includeThoughts: true } },
  });
  console.log('\n[genai] generateContent (thinking):', thinking.text);
  console.log('  usage:', thinking.usageMetadata);

  const counted = await ai.models.countTokens({
    model: 'gemini-2.5-flash',
    contents: 'Plan a three-step research task.',
  });
  console.log('  countTokens:', counted.totalTokens);

  // A long shared prefix hits the implicit cache on the second call.
  const context = 'Background: '.concat('the quarterly report lists spend per agent. '.repeat(20));
  for (const question of ['Who spent most?', 'Who spent least?']) {
    const reply = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: `${context}\n${question}`,
    });
    const usage = reply.usageMetadata;
    console.log(
      `  ${question} prompt=${usage?.promptTokenCount} cached=${usage?.cachedContentTokenCount ?? 0}`,
    );
  }
  console.log(`\n${standIn.requests.length} requests served.`);
} finally {
  await standIn.close();
}
