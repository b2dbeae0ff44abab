/** The rules file beside the ledger, and the editable rate-limit list the server uses. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  applyChange,
  configPathFor,
  RateLimitList,
  readConfigFile,
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
