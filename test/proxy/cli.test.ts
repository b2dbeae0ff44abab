/** `tollgate proxy`'s arguments and environment, in process (serving is tested in fleet.test.ts). */
import { describe, expect, it } from 'vitest';
import { parseProxyKeys } from '../../src/cli/commands/proxy.js';
import { hashApiKey } from '../../src/server/index.js';
import { runCli } from '../support/cli-io.js';

describe('tollgate proxy', () => {
  it('explains itself', async () => {
    const { code, out } = await runCli(['proxy', '--help'], {}, Date.now());
    expect(code).toBe(0);
    expect(out).toMatch(/--port 8788/);
    expect(out).toMatch(/TOLLGATE_PROXY_KEYS/);
  });

  it('is listed in the command overview', async () => {
    const { out } = await runCli(['--help'], {}, Date.now());
    expect(out).toMatch(/proxy\s+run the tracking gateway/);
  });

  it('refuses to start without any provider to serve', async () => {
    const { code, err } = await runCli(
      ['proxy', '--port', '0'],
      { TOLLGATE_DB: ':memory:' },
      Date.now(),
    );
    expect(code).toBe(1);
    expect(err).toMatch(/GEMINI_API_KEY/);
  });

  it('names a wrong argument', async () => {
    for (const args of [['--port', '99999'], ['--port', 'x'], ['--host', ''], ['--nope']]) {
      const { code, err } = await runCli(['proxy', ...args], {}, Date.now());
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(/tollgate proxy: /);
    }
  });

  it('reads TOLLGATE_PROXY_KEYS as user:key[:tenant], keeping only hashes', () => {
    expect(parseProxyKeys(' alice:k1:acme , bob:k2 ')).toEqual([
      { id: 'env-1', hash: hashApiKey('k1'), userId: 'alice', tenantId: 'acme' },
      { id: 'env-2', hash: hashApiKey('k2'), userId: 'bob' },
    ]);
    for (const bad of ['alice', 'alice:', ':key', 'a:b:c:d', 'a:b:']) {
      expect(() => parseProxyKeys(bad), bad).toThrow(/TOLLGATE_PROXY_KEYS entry 1/);
    }
  });
});
