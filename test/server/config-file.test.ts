/** The rules file beside the ledger, and the editable rate-limit list the server uses. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { BudgetManager } from '../../src/react/budgets/index.js';
import {
  applyChange,
  applyConfig,
  configPathFor,
  RateLimitList,
  readConfigFile,
  type ServerConfig,
  updateConfigFile,
  watchConfigFile,
  writeConfigFile,
} from '../../src/server/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rule = {
  id: 'user:alice:day',
  scope: { kind: 'user' as const, id: 'alice' },
  window: 'day' as const,
  limitUsd: 5,
  mode: 'hard' as const,
};

describe('config file', () => {
  it.each([
    ['outputs/tollgate.db', 'outputs/tollgate.config.json'],
    ['/var/lib/ledger.sqlite', '/var/lib/ledger.config.json'],
    ['ledger', 'ledger.config.json'],
  ])('%s → %s', (db, config) => expect(configPathFor(db)).toBe(config));

  it('round-trips budgets and rate limits; a missing file is empty', () => {
    const path = join(dir, 'a.json');
    expect(readConfigFile(path)).toEqual({ budgets: [], rateLimits: [] });
    let config = readConfigFile(path);
    config = applyChange(config, { kind: 'budget', action: 'set', rule });
    config = applyChange(config, {
      kind: 'rate-limit',
      action: 'set',
      limit: { id: 'rpm', scope: { kind: 'user' }, requestsPerMinute: 10 },
    });
    config = applyChange(config, { kind: 'budget', action: 'set', rule: { ...rule, limitUsd: 7 } });
    writeConfigFile(path, config);
    const read = readConfigFile(path);
    expect(read.budgets).toEqual([expect.objectContaining({ id: rule.id, limitUsd: 7 })]);
    expect(read.rateLimits).toEqual([
      { id: 'rpm', scope: { kind: 'user' }, requestsPerMinute: 10 },
    ]);
    const emptied = applyChange(
      applyChange(read, { kind: 'budget', action: 'remove', id: rule.id }),
      {
        kind: 'rate-limit',
        action: 'remove',
        id: 'rpm',
      },
    );
    expect(emptied).toEqual({ budgets: [], rateLimits: [] });
  });

  it.each([
    ['{nope', /not valid JSON/],
    ['[]', /expected an object/],
    ['{"budgets": {}}', /must be arrays/],
    [JSON.stringify({ budgets: [{ ...rule, limitUsd: -1 }] }), /limitUsd/],
    [
      JSON.stringify({ rateLimits: [{ id: 'x', scope: { kind: 'user' } }] }),
      /requestsPerMinute or tokensPerMinute/,
    ],
  ])('a bad file (%s) names the file and the problem', (text, message) => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, text);
    expect(() => readConfigFile(path)).toThrow(ConfigurationError);
    expect(() => readConfigFile(path)).toThrow(message);
    expect(() => readConfigFile(path)).toThrow(path);
  });
});

/** A budget rule for user `id`. */
const userRule = (id: string, limitUsd = 1) => ({
  id: `user:${id}:day`,
  scope: { kind: 'user' as const, id },
  window: 'day' as const,
  limitUsd,
  mode: 'hard' as const,
});

describe('updateConfigFile: read-modify-write under a lock', () => {
  it('keeps every update when 6 processes update the file at the same moment', async () => {
    const path = join(dir, 'shared.json');
    const module = resolve(import.meta.dirname, '../../src/server/config-file.ts');
    // Every child waits for the same instant, then makes 15 updates as fast as it can.
    const startAt = Date.now() + 3_000;
    const script = `
      const m = await import(${JSON.stringify(module)});
      const k = process.env.WRITER;
      await new Promise((r) => setTimeout(r, ${startAt} - Date.now()));
      for (let i = 0; i < 15; i++) {
        await m.updateConfigFile(${JSON.stringify(path)}, (config) => m.applyChange(config, {
          kind: 'budget', action: 'set',
          rule: { id: 'p' + k + '-' + i, scope: { kind: 'user', id: k + '-' + i }, window: 'day',
                  limitUsd: 1, mode: 'hard' },
        }));
      }`;
    await Promise.all(
      Array.from({ length: 6 }, (_, writer) =>
        promisify(execFile)(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { env: { ...process.env, WRITER: String(writer) }, timeout: 60_000 },
        ),
      ),
    );
    const ids = readConfigFile(path).budgets.map((rule) => rule.id);
    expect(ids).toHaveLength(90);
    expect(new Set(ids).size).toBe(90);
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 60_000);

  it('takes over a stale lock, waits for a live one, and fails clearly when it stays', async () => {
    const path = join(dir, 'locked.json');
    const lock = `${path}.lock`;
    writeFileSync(lock, 'a process that died\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await updateConfigFile(path, (config) =>
      applyChange(config, { kind: 'budget', action: 'set', rule: userRule('a') }),
    );
    expect(readConfigFile(path).budgets.map((rule) => rule.id)).toEqual(['user:a:day']);
    expect(existsSync(lock)).toBe(false);

    // A live lock: the update waits for its release.
    writeFileSync(lock, 'another process\n');
    setTimeout(() => rmSync(lock), 100);
    await updateConfigFile(path, (config) =>
      applyChange(config, { kind: 'budget', action: 'set', rule: userRule('b') }),
    );
    expect(readConfigFile(path).budgets).toHaveLength(2);

    // A live lock that stays: a ConfigurationError naming it, and nothing written.
    writeFileSync(lock, 'another process\n');
    const attempt = updateConfigFile(
      path,
      (config) => applyChange(config, { kind: 'budget', action: 'set', rule: userRule('c') }),
      { lockWaitMs: 50 },
    );
    await expect(attempt).rejects.toThrow(ConfigurationError);
    await expect(attempt).rejects.toThrow(/locked\.json\.lock/);
    expect(readConfigFile(path).budgets).toHaveLength(2);
    expect(readFileSync(lock, 'utf8')).toBe('another process\n'); // not ours: left alone
    rmSync(lock);
  });

  it('leaves a bad file as it is, and releases the lock', async () => {
    const path = join(dir, 'bad-update.json');
    writeFileSync(path, '{nope');
    await expect(updateConfigFile(path, (config) => config)).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(path, 'utf8')).toBe('{nope');
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

describe('watchConfigFile and applyConfig', () => {
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done(); waited += 20) {
      if (waited > 5_000) throw new Error('the watcher did not report');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('follows changes made by others, skips a bad file, and stops when asked', async () => {
    const path = join(dir, 'watched.json');
    writeConfigFile(path, { budgets: [userRule('a')], rateLimits: [] });
    const loaded: ServerConfig[] = [];
    const errors: unknown[] = [];
    const stop = watchConfigFile(
      path,
      (config) => loaded.push(config),
      (error) => errors.push(error),
      20,
    );
    try {
      await new Promise((r) => setTimeout(r, 50)); // the first poll
      writeConfigFile(path, { budgets: [userRule('a'), userRule('b', 2)], rateLimits: [] });
      await until(() => loaded.length === 1);
      expect(loaded[0]?.budgets.map((rule) => rule.id)).toEqual(['user:a:day', 'user:b:day']);
      writeFileSync(path, '{"budgets": [{"id": "x"}]}');
      await until(() => errors.length === 1);
      expect(String(errors[0])).toMatch(/watched\.json/);
      expect(loaded).toHaveLength(1);
    } finally {
      stop();
    }
    writeConfigFile(path, { budgets: [], rateLimits: [] });
    await new Promise((r) => setTimeout(r, 150));
    expect(loaded).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('hands an error thrown by onLoad to onError instead of crashing the process', async () => {
    const path = join(dir, 'throwing.json');
    writeConfigFile(path, { budgets: [], rateLimits: [] });
    const errors: unknown[] = [];
    const stop = watchConfigFile(
      path,
      () => {
        throw new Error('listener bug');
      },
      (error) => errors.push(error),
      20,
    );
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeConfigFile(path, { budgets: [userRule('a')], rateLimits: [] });
      await until(() => errors.length > 0);
      expect(String(errors[0])).toMatch(/listener bug/);
    } finally {
      stop();
    }
  });

  it('makes a manager and a limit list hold exactly the configuration', () => {
    const manager = new BudgetManager({
      rules: [userRule('gone'), userRule('kept', 1)],
      defaultDailyUserLimitUsd: null,
    });
    const limits = new RateLimitList([
      { id: 'old', scope: { kind: 'global' }, requestsPerMinute: 5 },
    ]);
    applyConfig(
      {
        budgets: [userRule('kept', 3), userRule('new')],
        rateLimits: [{ id: 'rpm', scope: { kind: 'user' }, requestsPerMinute: 10 }],
      },
      { budgets: manager, rateLimits: limits },
    );
    expect(manager.listRules().map((rule) => [rule.id, rule.limitUsd])).toEqual([
      ['user:kept:day', 3],
      ['user:new:day', 1],
    ]);
    expect(limits.listLimits().map((limit) => limit.id)).toEqual(['rpm']);
  });
});

describe('RateLimitList', () => {
  it('lists, replaces by id, removes; hands out copies', () => {
    const list = new RateLimitList([{ id: 'a', scope: { kind: 'global' }, requestsPerMinute: 5 }]);
    list.setLimit({ id: 'a', scope: { kind: 'global' }, requestsPerMinute: 6 });
    const [only] = list.listLimits();
    expect(only?.requestsPerMinute).toBe(6);
    if (only) only.requestsPerMinute = 999;
    expect(list.listLimits()[0]?.requestsPerMinute).toBe(6);
    expect(list.removeLimit('a')).toBe(true);
    expect(list.removeLimit('a')).toBe(false);
  });

  it('validates as the RateLimiter does', () => {
    const list = new RateLimitList();
    expect(() => list.setLimit({ id: 'x', scope: { kind: 'user' } })).toThrow(ConfigurationError);
    expect(() =>
      list.setLimit({ id: 'x', scope: { kind: 'global', id: 'g' }, requestsPerMinute: 1 }),
    ).toThrow(/global scope takes no id/);
  });
});
