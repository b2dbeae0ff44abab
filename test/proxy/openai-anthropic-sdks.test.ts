/**
 * The official `openai` and `@anthropic-ai/sdk` SDKs, unchanged but for their base URL (and a
 * gateway key in place of the provider's), through the gateway to the stand-ins: every call
 * recorded once, with the stand-in's own token counts and their exact price.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store, LedgerRecord as UsageRecord } from '../../src/keep/types.js';
import { defaultPricer } from '../../src/price/pricer.js';
import {
  createProxy,
  createProxyKey,
  type ProxyKeyRecord,
  serveProxy,
  type TollgateProxy,
} from '../../src/proxy/index.js';
import type { RunningServer } from '../../src/server/node.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import {
  type AnthropicStandIn,
  type OpenAIStandIn,
  type ProviderRecordedRequest,
  startAnthropicStandIn,
  startOpenAIStandIn,
} from '../../src/testing/index.js';
import { normalizeUsage } from '../../src/usage/index.js';

const PROVIDER_KEY = 'sk-provider-secret-0123456789';

interface Gateway {
  openaiUpstream: OpenAIStandIn;
  anthropicUpstream: AnthropicStandIn;
  proxy: TollgateProxy;
  running: RunningServer;
  store: Store;
  key: string;
  record: ProxyKeyRecord;
  openai: OpenAI;
  anthropic: Anthropic;
  stop(): Promise<void>;
}

async function startGateway(key: Partial<ProxyKeyRecord> = {}): Promise<Gateway> {
  const openaiUpstream = await startOpenAIStandIn({ apiKey: PROVIDER_KEY, chunkDelayMs: 15 });
  const anthropicUpstream = await startAnthropicStandIn({ apiKey: PROVIDER_KEY, chunkDelayMs: 15 });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-proxy-sdks-'));
  const store = createSqliteStore({ path: join(dir, 'ledger.db') });
  const issued = createProxyKey({ userId: 'bob', tenantId: 'acme', ...key });
  const proxy = createProxy({
    store,
    keys: [issued.record],
    upstreams: {
      openai: { baseUrl: `${openaiUpstream.url}/v1`, apiKey: PROVIDER_KEY },
      anthropic: { baseUrl: anthropicUpstream.url, apiKey: PROVIDER_KEY },
    },
  });
  const running = await serveProxy(proxy, { port: 0 });
  return {
    openaiUpstream,
    anthropicUpstream,
    proxy,
    running,
    store,
    key: issued.key,
    record: issued.record,
    openai: new OpenAI({ apiKey: issued.key, baseURL: `${running.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: issued.key, baseURL: running.url, maxRetries: 0 }),
    async stop() {
      await running.close();
      await proxy.close();
      await openaiUpstream.close();
      await anthropicUpstream.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ledger(gateway: Gateway): Promise<UsageRecord[]> {
  await gateway.proxy.flush();
  return (await gateway.store.query({ limit: 10_000 })).records;
}

/** The one record added since `before`, once the gateway has written it. */
async function added(gateway: Gateway, before: number): Promise<UsageRecord> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const records = await ledger(gateway);
    if (records.length > before) {
      expect(records.length).toBe(before + 1);
      return records.at(-1) as UsageRecord;
    }
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error('the gateway recorded nothing');
}

/**
 * The record holds exactly the stand-in's usage (as the wire reported it, OpenAI's response-level
 * `service_tier` included) and its exact catalog price.
 */
function expectRecorded(
  record: UsageRecord,
  sent: ProviderRecordedRequest | undefined,
  tier?: string,
): void {
  const raw = tier === undefined ? sent?.usage : { ...sent?.usage, service_tier: tier };
  const usage = normalizeUsage(raw);
  if (!usage) throw new Error('the stand-in sent no usage');
  expect(record).toMatchObject({
    inputTokens: usage.inputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    userId: 'bob',
    tenantId: 'acme',
  });
  const price = defaultPricer().price(usage, record.model);
  expect(price.priced).toBe(true);
  expect(record.costFemto).toBe(price.exact.total);
  expect(record.costFemto).toBeGreaterThan(0n);
}

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway.stop();
});

describe('openai through the gateway', () => {
  it('records a unary chat completion at its exact price, with the provider key upstream', async () => {
    const before = (await ledger(gateway)).length;
    const reply = await gateway.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Name three colours of the rainbow.' }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const record = await added(gateway, before);
    const sent = gateway.openaiUpstream.requests.at(-1);
    expect(sent?.apiKey).toBe(PROVIDER_KEY);
    expect(record.inputTokens).toBe(reply.usage?.prompt_tokens);
    expectRecorded(record, sent, 'default');
    expect(record.metadata).toMatchObject({
      source: 'proxy',
      streamed: false,
      operation: 'chat.completions',
      key: gateway.record.id,
    });
  });

  it('counts a stream the client asked no usage for, and shows it no usage chunk', async () => {
    const before = (await ledger(gateway)).length;
    const stream = await gateway.openai.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'Tell a short story about a lighthouse.' }],
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.usage ?? null).toBeNull();
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBeTruthy();
    const sent = gateway.openaiUpstream.requests.at(-1);
    expect(sent?.body).toMatchObject({ stream_options: { include_usage: true } });
    const record = await added(gateway, before);
    expectRecorded(record, sent, 'default');
    expect(record.metadata).toMatchObject({ streamed: true, complete: true });
  });

  it('passes the usage chunk to a client that asked for it', async () => {
    const before = (await ledger(gateway)).length;
    const final = await gateway.openai.chat.completions
      .stream({
        model: 'o4-mini',
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Think, then answer briefly.' }],
      })
      .finalChatCompletion();
    expect(final.usage?.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    const record = await added(gateway, before);
    expect(record.outputTokens).toBe(final.usage?.completion_tokens);
    expect(record.reasoningTokens).toBe(final.usage?.completion_tokens_details?.reasoning_tokens);
    expectRecorded(record, gateway.openaiUpstream.requests.at(-1), 'default');
  });

  it('records the Responses API, unary and streamed', async () => {
    let before = (await ledger(gateway)).length;
    const reply = await gateway.openai.responses.create({
      model: 'gpt-4.1-mini',
      instructions: 'Be brief.',
      input: 'What is a token?',
    });
    expect(reply.output_text).toBeTruthy();
    expectRecorded(await added(gateway, before), gateway.openaiUpstream.requests.at(-1), 'default');

    before = (await ledger(gateway)).length;
    const stream = gateway.openai.responses.stream({ model: 'gpt-4.1-mini', input: 'Say hello' });
    const final = await stream.finalResponse();
    const record = await added(gateway, before);
    expect(record.totalTokens).toBe(final.usage?.total_tokens);
    expectRecorded(record, gateway.openaiUpstream.requests.at(-1), 'default');
    expect(record.metadata).toMatchObject({ streamed: true, operation: 'responses' });
  });

  it('records embeddings (the SDK asks for base64 and decodes it)', async () => {
    const before = (await ledger(gateway)).length;
    const reply = await gateway.openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['first text to embed', 'second one'],
    });
    expect(reply.data[1]?.embedding).toHaveLength(1536);
    const record = await added(gateway, before);
    expect(record).toMatchObject({
      inputTokens: reply.usage.prompt_tokens,
      outputTokens: 0,
      userId: 'bob',
      metadata: { operation: 'embeddings', streamed: false },
    });
  });

  // The catalog prices OpenAI's embedding models only under the provider id `openai`: the
  // gateway prices each call under the provider that served it.
  it('prices embeddings exactly, under the provider that served them', async () => {
    const before = (await ledger(gateway)).length;
    await gateway.openai.embeddings.create({ model: 'text-embedding-3-small', input: 'price me' });
    const record = await added(gateway, before);
    const usage = normalizeUsage(gateway.openaiUpstream.requests.at(-1)?.usage);
    if (!usage) throw new Error('the stand-in sent no usage');
    const price = defaultPricer().price(usage, record.model, { provider: 'openai' });
    expect(price.priced).toBe(true);
    expect(record.priced).toBe(true);
    expect(record.costFemto).toBe(price.exact.total);
    expect(record.provider).toBe('openai');
  });

  it('answers refusals and upstream failures in OpenAI shape, which the SDK understands', async () => {
    const stranger = new OpenAI({
      apiKey: 'tgp_not-issued',
      baseURL: `${gateway.running.url}/v1`,
      maxRetries: 0,
    });
    await expect(
      stranger.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    gateway.openaiUpstream.failNext({ status: 503, message: 'upstream overloaded' });
    const error = await gateway.openai.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain(
      'upstream overloaded',
    );
  });
});

describe('anthropic through the gateway', () => {
  const SYSTEM = 'Reference notes on lighthouses, harbours and ships at night. '.repeat(8);

  it('records unary messages with cache writes and reads at their exact price', async () => {
    const ask = (question: string) =>
      gateway.anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 200,
        system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: question }],
      });
    let before = (await ledger(gateway)).length;
    const first = await ask('What is a lighthouse?');
    const written = await added(gateway, before);
    expect(written.cacheWriteTokens).toBe(first.usage.cache_creation_input_tokens);
    expect(written.cacheWriteTokens).toBeGreaterThan(0);
    expectRecorded(written, gateway.anthropicUpstream.requests.at(-1));
    expect(gateway.anthropicUpstream.requests.at(-1)?.apiKey).toBe(PROVIDER_KEY);

    before = (await ledger(gateway)).length;
    const second = await ask('Who keeps it?');
    const read = await added(gateway, before);
    expect(read.cacheReadTokens).toBe(second.usage.cache_read_input_tokens);
    expect(read.inputTokens).toBe(
      second.usage.input_tokens +
        (second.usage.cache_read_input_tokens ?? 0) +
        (second.usage.cache_creation_input_tokens ?? 0),
    );
    expectRecorded(read, gateway.anthropicUpstream.requests.at(-1));
  });

  it('records a stream once, with the usage the SDK aggregated', async () => {
    const before = (await ledger(gateway)).length;
    const final = await gateway.anthropic.messages
      .stream({
        model: 'claude-haiku-4-5',
        max_tokens: 300,
        messages: [{ role: 'user', content: 'Tell a short story about a lighthouse.' }],
      })
      .finalMessage();
    const record = await added(gateway, before);
    expect(record.outputTokens).toBe(final.usage.output_tokens);
    expect(record.inputTokens).toBe(final.usage.input_tokens);
    expectRecorded(record, gateway.anthropicUpstream.requests.at(-1));
    expect(record.metadata).toMatchObject({
      streamed: true,
      complete: true,
      operation: 'messages',
    });
  });

  it('records extended thinking as reasoning, inside the output', async () => {
    const before = (await ledger(gateway)).length;
    const final = await gateway.anthropic.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Think about the tides.' }],
      })
      .finalMessage();
    const record = await added(gateway, before);
    expect(record.reasoningTokens).toBe(final.usage.output_tokens_details?.thinking_tokens);
    expect(record.reasoningTokens).toBeGreaterThan(0);
    expect(record.outputTokens).toBe(final.usage.output_tokens);
    expectRecorded(record, gateway.anthropicUpstream.requests.at(-1));
  });

  it('forwards token counting without recording it', async () => {
    const before = (await ledger(gateway)).length;
    const counted = await gateway.anthropic.messages.countTokens({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(gateway.anthropicUpstream.requests.at(-1)?.operation).toBe('count_tokens');
    await gateway.proxy.flush();
    expect((await ledger(gateway)).length).toBe(before);
  });

  it('answers a bad request before forwarding, in Anthropic shape', async () => {
    const calls = gateway.anthropicUpstream.requests.length;
    const error = await gateway.anthropic.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: -5,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    expect(gateway.anthropicUpstream.requests.length).toBe(calls);
  });
});

describe('curl through the gateway', () => {
  const curl = (args: string[]) => promisify(execFile)('curl', ['-sS', '--no-buffer', ...args]);

  it('streams a chat completion as SSE without the usage chunk it did not ask for', async () => {
    const before = (await ledger(gateway)).length;
    const { stdout } = await curl([
      `${gateway.running.url}/v1/chat/completions`,
      '-H',
      `Authorization: Bearer ${gateway.key}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Hello from curl' }],
      }),
    ]);
    const events = stdout.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    for (const event of events.slice(0, -1)) {
      expect(JSON.parse(event.slice('data: '.length)).choices).toHaveLength(1);
    }
    const record = await added(gateway, before);
    expectRecorded(record, gateway.openaiUpstream.requests.at(-1), 'default');
  });

  it('posts an Anthropic message with x-api-key', async () => {
    const before = (await ledger(gateway)).length;
    const { stdout } = await curl([
      `${gateway.running.url}/v1/messages`,
      '-H',
      `x-api-key: ${gateway.key}`,
      '-H',
      'anthropic-version: 2023-06-01',
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Hello from curl' }],
      }),
    ]);
    const message = JSON.parse(stdout) as { usage: { input_tokens: number } };
    const record = await added(gateway, before);
    expect(record.inputTokens).toBe(message.usage.input_tokens);
    expectRecorded(record, gateway.anthropicUpstream.requests.at(-1));
  });
});

describe('an upstream that fails mid-stream', () => {
  it('reaches the client as an error; Anthropic usage seen so far is recorded', async () => {
    const before = (await ledger(gateway)).length;
    gateway.anthropicUpstream.failNext({ afterChunks: 4 });
    const error = await gateway.anthropic.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 300,
        messages: [{ role: 'user', content: 'Tell a story about the sea.' }],
      })
      .finalMessage()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const record = await added(gateway, before);
    expect(record.inputTokens).toBe(gateway.anthropicUpstream.requests.at(-1)?.usage?.input_tokens);
    expect(record.metadata).toMatchObject({ streamed: true, complete: false });
  });

  it('records an OpenAI stream cut before its usage as an estimate, flagged, and serves on', async () => {
    const before = (await ledger(gateway)).length;
    gateway.openaiUpstream.failNext({ afterChunks: 2 });
    const stream = await gateway.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Tell a story about the sea.' }],
    });
    let chunks = 0;
    const error = await (async () => {
      for await (const _chunk of stream) chunks += 1;
    })().catch((caught: unknown) => caught);
    expect(chunks).toBe(2);
    expect(error).toBeInstanceOf(Error);
    // OpenAI bills what it streamed: the prompt counted locally, a token a chunk that arrived.
    const cut = await added(gateway, before);
    expect(cut.metadata).toMatchObject({ streamed: true, complete: false, estimated: true });
    expect(cut.inputTokens).toBeGreaterThan(0);
    expect(cut.outputTokens).toBe(2);
    expect(cut.costFemto).toBeGreaterThan(0n);
    const reply = await gateway.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Still there?' }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const next = await added(gateway, before + 1);
    expect(next.inputTokens).toBe(reply.usage?.prompt_tokens);
    expect(next.metadata).not.toHaveProperty('estimated');
  });
});

describe('a client that disconnects mid-stream', () => {
  it('aborts the upstream; Anthropic input usage seen so far is recorded, once', async () => {
    const before = (await ledger(gateway)).length;
    const controller = new AbortController();
    const stream = await gateway.anthropic.messages.create(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 400,
        stream: true,
        messages: [{ role: 'user', content: 'Tell a long story about the sea.' }],
      },
      { signal: controller.signal },
    );
    let events = 0;
    // The SDK ends the iteration quietly (or with an abort error) once the signal fires.
    await (async () => {
      for await (const event of stream) {
        events += 1;
        if (event.type === 'content_block_delta') controller.abort();
      }
    })().catch(() => undefined);
    expect(events).toBeLessThan(6);
    const record = await added(gateway, before);
    const sent = gateway.anthropicUpstream.requests.at(-1);
    expect(record.inputTokens).toBe(sent?.usage?.input_tokens);
    expect(record.metadata).toMatchObject({ streamed: true, complete: false });
    expect(record.costFemto).toBeGreaterThan(0n);
    // The upstream was cut short: its last usage sent is message_start's (output_tokens 1),
    // never message_delta's, and that is what was recorded.
    expect(sent?.usage?.output_tokens).toBe(1);
    expect(record.outputTokens).toBe(1);
  });

  it('leaves the gateway serving after an OpenAI client walks away', async () => {
    const controller = new AbortController();
    const stream = await gateway.openai.chat.completions.create(
      {
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'Tell a long story about the sea.' }],
      },
      { signal: controller.signal },
    );
    let chunks = 0;
    await (async () => {
      for await (const _chunk of stream) {
        chunks += 1;
        controller.abort();
      }
    })().catch(() => undefined);
    expect(chunks).toBe(1);
    const before = (await ledger(gateway)).length;
    const reply = await gateway.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Still there?' }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const records = await ledger(gateway);
    expect(records.length).toBeGreaterThanOrEqual(before);
  });
});

describe('a spent budget', () => {
  let tight: Gateway;
  beforeAll(async () => {
    tight = await startGateway({ budgets: [{ window: 'day', limitUsd: 0.000001, mode: 'hard' }] });
  });
  afterAll(async () => {
    await tight.stop();
  });

  it('is refused in each provider shape, and nothing reaches the upstream', async () => {
    const openaiError = await tight.openai.chat.completions
      .create({ model: 'gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(openaiError).toBeInstanceOf(OpenAI.APIError);
    expect((openaiError as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((openaiError as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    const anthropicError = await tight.anthropic.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 1000,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .catch((caught: unknown) => caught);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'billing_error' },
    });
    expect(tight.openaiUpstream.requests).toHaveLength(0);
    expect(tight.anthropicUpstream.requests).toHaveLength(0);
  });
});
