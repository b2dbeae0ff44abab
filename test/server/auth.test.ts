/**
 * The auth matrix: no credentials, wrong ones, viewer, admin, tenant A against tenant B on every
 * endpoint, and JWTs (valid, expired, wrong signature, bad claims, RS256).
 */
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { createApiKey, createHandler, createMetrics, hashApiKey } from '../../src/server/index.js';
import { call, DAY, fixture, NOW, rec, token } from './support.js';

const READS = [
  'GET /api/usage/users/alice',
  'GET /api/usage/threads/t-a',
  'GET /api/usage/records',
  'GET /api/usage/by-model',
  'GET /api/usage/by-agent',
  'GET /api/usage/summary',
  'GET /api/budgets',
  'GET /api/rate-limits',
  'GET /metrics',
];

const budget = { scope: { kind: 'tenant', id: 'acme' }, window: 'day', limitUsd: 5, mode: 'hard' };
const limit = { scope: { kind: 'user' }, requestsPerMinute: 60 };

const WRITES: [string, unknown][] = [
  ['PUT /api/budgets/b1', budget],
  ['DELETE /api/budgets/b1', undefined],
  ['PUT /api/rate-limits/l1', limit],
  ['DELETE /api/rate-limits/l1', undefined],
];

const withMetrics = () => fixture({ metrics: createMetrics() });

describe('credentials', () => {
  it('only /api/health answers without credentials', async () => {
    const { handler } = await withMetrics();
    for (const line of [...READS, ...WRITES.map(([l]) => l)]) {
      const res = await call(handler, line, { body: line.startsWith('PUT') ? {} : undefined });
      expect(res.status, line).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call(handler, 'GET /api/health')).status).toBe(200);
  });

  it('a wrong key, a malformed header and an empty key are 401', async () => {
    const { handler } = await fixture();
    const cases: Record<string, string>[] = [
      { authorization: 'Bearer tg_not-a-key' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer' },
      { 'x-api-key': '' },
      { 'x-api-key': 'tg_wrong' },
    ];
    for (const headers of cases) {
      const res = await call(handler, 'GET /api/usage/summary', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
    }
  });

  it('x-api-key works like a bearer key', async () => {
    const { handler, keys } = await fixture();
    const res = await call(handler, 'GET /api/usage/summary', {
      headers: { 'x-api-key': keys.viewer },
    });
    expect(res.status).toBe(200);
  });

  it('a viewer reads everything and changes nothing (403); an admin changes', async () => {
    const { handler, keys } = await withMetrics();
    for (const line of READS) {
      expect((await call(handler, line, { key: keys.viewer })).status, line).toBe(200);
    }
    for (const [line, body] of WRITES) {
      const res = await call(handler, line, { key: keys.viewer, body });
      expect(res.status, line).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const statuses = [];
    for (const [line, body] of WRITES) {
      statuses.push((await call(handler, line, { key: keys.admin, body })).status);
    }
    expect(statuses).toEqual([201, 204, 201, 204]);
  });

  it('hashApiKey and createApiKey: the record holds the hash, never the key', () => {
    const { key, record } = createApiKey('viewer', 'acme');
    expect(key).toMatch(/^tg_[\w-]{43}$/);
    expect(record).toMatchObject({ role: 'viewer', tenantId: 'acme', hash: hashApiKey(key) });
    expect(JSON.stringify(record)).not.toContain(key);
    expect(hashApiKey('abc')).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('keys from a store looked up by hash, and bare-hex hashes', async () => {
    const secret = 'a-user-chosen-key';
    const hex = hashApiKey(secret).slice('sha256:'.length);
    const store = new (await import('../../src/keep/memory.js')).MemoryStore();
    const asked: string[] = [];
    const handler = createHandler({
      store,
      auth: {
        apiKeys: {
          findByHash: async (hash) => {
            asked.push(hash);
            return hash === `sha256:${hex}` ? { id: 'k', hash: hex, role: 'viewer' } : undefined;
          },
        },
      },
    });
    expect((await call(handler, 'GET /api/usage/summary', { key: secret })).status).toBe(200);
    expect((await call(handler, 'GET /api/usage/summary', { key: 'other' })).status).toBe(401);
    expect(asked).toHaveLength(2);
  });

  it('bad auth options fail at creation, naming what is wrong', async () => {
    const { store } = await fixture();
    expect(() => createHandler({ store, auth: {} })).toThrow(/give apiKeys, jwt, or both/);
    expect(() =>
      createHandler({ store, auth: { apiKeys: [{ id: 'x', hash: 'nope', role: 'admin' }] } }),
    ).toThrow(/apiKeys\[0\]: needs an id and a hash/);
    expect(() =>
      createHandler({
        store,
        auth: { apiKeys: [{ id: 'x', hash: hashApiKey('k'), role: 'root' as 'admin' }] },
      }),
    ).toThrow(/apiKeys\[0\]\.role/);
    expect(() => createHandler({ store, auth: { jwt: {} } })).toThrow(ConfigurationError);
    expect(() => createHandler({ store, auth: { jwt: { secret: 'short' } } })).toThrow(/16/);
  });
});

describe('tenants', () => {
  it('a tenant-scoped key never sees another tenant, on any endpoint', async () => {
    const { handler, keys, budgets } = await withMetrics();
    budgets.setRule({ id: 'acme-day', ...budget } as never);
    budgets.setRule({
      id: 'globex-day',
      scope: { kind: 'tenant', id: 'globex' },
      window: 'day',
      limitUsd: 9,
      mode: 'soft',
    });
    budgets.setRule({
      id: 'global',
      scope: { kind: 'global' },
      window: 'month',
      limitUsd: 100,
      mode: 'hard',
    });
    const answers: Record<string, Awaited<ReturnType<typeof call>>> = {};
    for (const line of READS) answers[line] = await call(handler, line, { key: keys.acmeViewer });
    for (const [line, res] of Object.entries(answers)) {
      if (line === 'GET /metrics') continue;
      expect(res.status, line).toBe(200);
      expect(res.text, line).not.toMatch(/globex|carol|t-c/);
    }
    expect(answers['GET /metrics']?.status).toBe(403);
    expect(answers['GET /api/usage/summary']?.body.totals).toMatchObject({
      calls: 9,
      costUsdExact: '0.107',
    });
    expect(answers['GET /api/usage/summary']?.body.tenantId).toBe('acme');
    expect(answers['GET /api/usage/by-model']?.body.totals.costUsdExact).toBe('0.107');
    expect(answers['GET /api/usage/by-agent']?.body.totals.calls).toBe(9);
    expect(answers['GET /api/usage/records']?.body.records).toHaveLength(8); // 7 days: bob's −9d is out
    expect(answers['GET /api/usage/users/alice']?.body.budget).toBeNull();
    expect(answers['GET /api/budgets']?.body.budgets.map((b: { id: string }) => b.id)).toEqual([
      'acme-day',
    ]);
    expect(answers['GET /api/rate-limits']?.body.rateLimits).toEqual([]);

    // Another tenant's user and thread look empty / missing, not forbidden: nothing leaks.
    const carol = await call(handler, 'GET /api/usage/users/carol', { key: keys.acmeViewer });
    expect(carol.body.totals.calls).toBe(0);
    const thread = await call(handler, 'GET /api/usage/threads/t-c', { key: keys.acmeViewer });
    expect(thread.status).toBe(404);
    const filtered = await call(handler, 'GET /api/usage/records?userId=carol&days=30', {
      key: keys.acmeViewer,
    });
    expect(filtered.body.records).toEqual([]);
  });

  it('asking for another tenant is a 403; an unscoped key may pick one', async () => {
    const { handler, keys } = await fixture();
    const other = await call(handler, 'GET /api/usage/summary?tenant=globex', {
      key: keys.acmeViewer,
    });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/^tenant: /);
    const own = await call(handler, 'GET /api/usage/summary?tenant=acme', { key: keys.acmeViewer });
    expect(own.status).toBe(200);
    const picked = await call(handler, 'GET /api/usage/summary?tenant=globex', { key: keys.admin });
    expect(picked.body.totals).toMatchObject({ calls: 3, costUsdExact: '0.009' });
  });

  it('a tenant admin edits its own tenant budgets only; rate limits are server-wide', async () => {
    const { handler, keys, budgets } = await fixture();
    budgets.setRule({
      id: 'globex-day',
      scope: { kind: 'tenant', id: 'globex' },
      window: 'day',
      limitUsd: 9,
      mode: 'soft',
    });
    const own = await call(handler, 'PUT /api/budgets/acme-day', {
      key: keys.acmeAdmin,
      body: budget,
    });
    expect(own.status).toBe(201);
    const wrongScope = await call(handler, 'PUT /api/budgets/x', {
      key: keys.acmeAdmin,
      body: { ...budget, scope: { kind: 'global' } },
    });
    expect(wrongScope.status).toBe(403);
    const takeover = await call(handler, 'PUT /api/budgets/globex-day', {
      key: keys.acmeAdmin,
      body: budget,
    });
    expect(takeover.status).toBe(403);
    const remove = await call(handler, 'DELETE /api/budgets/globex-day', { key: keys.acmeAdmin });
    expect(remove.status).toBe(404);
    expect(budgets.listRules().map((r) => r.id)).toContain('globex-day');
    const limitPut = await call(handler, 'PUT /api/rate-limits/l1', {
      key: keys.acmeAdmin,
      body: limit,
    });
    expect(limitPut.status).toBe(403);
  });
});

describe('JWT', () => {
  it('a valid HS256 token with role and tenant claims', async () => {
    const { handler } = await fixture();
    const jwt = await token(
      { role: 'viewer', tenant: 'globex', sub: 'dash' },
      { expiresAt: NOW + 60_000 },
    );
    const res = await call(handler, 'GET /api/usage/summary', { key: jwt });
    expect(res.status).toBe(200);
    expect(res.body.totals.calls).toBe(3);
    const write = await call(handler, 'PUT /api/budgets/x', { key: jwt, body: budget });
    expect(write.status).toBe(403);
    const admin = await token({ role: 'admin' });
    expect((await call(handler, 'PUT /api/budgets/x', { key: admin, body: budget })).status).toBe(
      201,
    );
  });

  it('expired, wrong signature, missing or bad claims: 401', async () => {
    const { handler } = await fixture();
    const cases: [string, string, RegExp][] = [
      [
        'expired',
        await token({ role: 'admin' }, { expiresAt: NOW - 1_000, issuedAt: NOW - DAY }),
        /expired/,
      ],
      [
        'wrong secret',
        await token({ role: 'admin' }, { secret: 'another-secret-of-32-characters!' }),
        /invalid token/,
      ],
      ['no role', await token({ sub: 'x' }), /role claim/],
      ['bad role', await token({ role: 'root' }), /role claim/],
      ['bad tenant', await token({ role: 'viewer', tenant: 42 }), /tenant claim/],
      ['garbage', 'aaa.bbb.ccc', /invalid token/],
    ];
    for (const [name, jwt, message] of cases) {
      const res = await call(handler, 'GET /api/usage/summary', { key: jwt });
      expect(res.status, name).toBe(401);
      expect(res.body.error.message, name).toMatch(message);
    }
  });

  it('RS256 with a PEM public key, issuer and audience', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const { store } = await fixture();
    const handler = createHandler({
      store,
      auth: {
        jwt: { publicKey: await exportSPKI(publicKey), issuer: 'idp', audience: 'tollgate' },
      },
      now: () => NOW,
    });
    const sign = (claims: Record<string, unknown>, issuer = 'idp') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(issuer)
        .setAudience('tollgate')
        .setExpirationTime(Math.floor((NOW + 60_000) / 1000))
        .sign(privateKey);
    expect(
      (await call(handler, 'GET /api/usage/summary', { key: await sign({ role: 'viewer' }) }))
        .status,
    ).toBe(200);
    const wrongIssuer = await sign({ role: 'viewer' }, 'evil');
    expect((await call(handler, 'GET /api/usage/summary', { key: wrongIssuer })).status).toBe(401);
    // An HS256 token signed with the public key text must not pass (algorithm confusion).
    const confused = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(await exportSPKI(publicKey)));
    expect((await call(handler, 'GET /api/usage/summary', { key: confused })).status).toBe(401);
  });

  it('keys and tokens side by side', async () => {
    const { handler, store, keys } = await fixture();
    await store.append([rec({ tenantId: 'acme', timestamp: NOW - 1000 })]);
    expect(
      (await call(handler, 'GET /api/usage/summary', { key: keys.acmeViewer })).body.totals.calls,
    ).toBe(10);
    expect(
      (await call(handler, 'GET /api/usage/summary', { key: await token({ role: 'viewer' }) })).body
        .totals.calls,
    ).toBe(13);
  });
});
