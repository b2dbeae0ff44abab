import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  ConfigurationError,
  describe as describeValue,
  InvalidPriceOverrideError,
  InvalidUsageError,
  isModuleNotFound,
  MissingPeerError,
  peerLoadError,
  RateLimitExceededError,
  TollgateError,
  UnknownModelError,
} from '../src/errors.js';

describe('error family', () => {
  it('carries structured fields and a message that says what happened', () => {
    const budget = new BudgetExceededError({ limitUsd: 0.5, spentUsd: 0.52, agent: 'coder' });
    expect(budget).toMatchObject({
      limitUsd: 0.5,
      spentUsd: 0.52,
      agent: 'coder',
      scope: 'session',
    });
    expect(budget.message).toBe(
      'Budget exceeded (session): spent $0.5200 of $0.5000; call by "coder" refused',
    );
    expect(new InvalidUsageError('usageMetadata.promptTokenCount', -3, 'negative').message).toBe(
      'Invalid usage: usageMetadata.promptTokenCount = -3: negative',
    );
    expect(new RateLimitExceededError({ retryAfterMs: 250, scope: 'user:u1' }).retryAfterMs).toBe(
      250,
    );
    expect(new UnknownModelError('acme', 'google').message).toContain(
      '"acme" for provider "google"',
    );
  });

  it('isInstance holds across two copies of the package, where instanceof does not', async () => {
    // A second evaluation of the same module: what a second copy in node_modules would be.
    const specifier = new URL('../src/errors.ts?second-copy', import.meta.url).href;
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../src/errors.js');
    expect(copy.BudgetExceededError).not.toBe(BudgetExceededError);
    const foreign = new copy.BudgetExceededError({ limitUsd: 1, spentUsd: 2 });
    expect(foreign instanceof BudgetExceededError).toBe(false);
    expect(BudgetExceededError.isInstance(foreign)).toBe(true);
    expect(TollgateError.isInstance(foreign)).toBe(true);
    expect(UnknownModelError.isInstance(foreign)).toBe(false);
  });

  it('isInstance tells the subclasses apart and rejects look-alikes', () => {
    const errors = [
      new InvalidUsageError('f', 1, 'r'),
      new UnknownModelError('m'),
      new BudgetExceededError({ limitUsd: 1, spentUsd: 1 }),
      new RateLimitExceededError({ retryAfterMs: 1, scope: 's' }),
      new InvalidPriceOverrideError('x'),
      new ConfigurationError('x'),
    ];
    const classes = [
      InvalidUsageError,
      UnknownModelError,
      BudgetExceededError,
      RateLimitExceededError,
      InvalidPriceOverrideError,
      ConfigurationError,
    ];
    errors.forEach((error, i) => {
      classes.forEach((cls, j) => {
        expect(cls.isInstance(error)).toBe(i === j);
      });
      expect(TollgateError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(Error);
    });
    expect(TollgateError.isInstance(new Error('plain'))).toBe(false);
    expect(TollgateError.isInstance({ name: 'BudgetExceededError' })).toBe(false);
    expect(TollgateError.isInstance(null)).toBe(false);
  });
});

describe('describe (values in error messages)', () => {
  it('masks the credentials of URLs, which would otherwise reach the logs', () => {
    expect(describeValue('https://alice:s3cret@hooks.example/x')).toBe(
      '"https://***@hooks.example/x"',
    );
    expect(describeValue({ url: 'redis://:pw@10.0.0.1:6379' })).toBe(
      '{"url":"redis://***@10.0.0.1:6379"}',
    );
    expect(describeValue('https://hooks.example/a@b')).toBe('"https://hooks.example/a@b"');
    expect(describeValue('plain text')).toBe('"plain text"');
  });
});

describe('MissingPeerError', () => {
  it('names the package and the exact install command, once, and is a ConfigurationError', () => {
    const error = new MissingPeerError('tollgate/sqlite', 'better-sqlite3');
    expect(error.message).toBe(
      'tollgate/sqlite needs the better-sqlite3 package, which is not installed: npm install better-sqlite3',
    );
    expect(error.message.match(/npm install/g)).toHaveLength(1);
    expect(error).toMatchObject({
      packageName: 'better-sqlite3',
      install: 'npm install better-sqlite3',
    });
    expect(MissingPeerError.isInstance(error)).toBe(true);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(TollgateError.isInstance(error)).toBe(true);
    expect(MissingPeerError.isInstance(new ConfigurationError('x'))).toBe(false);
  });

  it('tells a package that is not there from one that fails as it loads', async () => {
    const missing = await import('tollgate-no-such-package' as string).catch((e: unknown) => e);
    expect(isModuleNotFound(missing)).toBe(true);
    let required: unknown;
    try {
      (await import('node:module')).createRequire(import.meta.url)('tollgate-no-such-package');
    } catch (error) {
      required = error;
    }
    expect(isModuleNotFound(required)).toBe(true);
    expect(isModuleNotFound(new SyntaxError('Unexpected token'))).toBe(false);
    expect(isModuleNotFound(null)).toBe(false);
  });
});

describe('peerLoadError', () => {
  it('is MissingPeerError for a package not installed, a ConfigurationError with the reason otherwise', () => {
    const notFound = Object.assign(new Error("Cannot find module 'ioredis'"), {
      code: 'MODULE_NOT_FOUND',
    });
    const missing = peerLoadError('tollgate/redis', 'ioredis', notFound);
    expect(MissingPeerError.isInstance(missing)).toBe(true);
    expect(missing.message).toContain('npm install ioredis');
    expect(missing.cause).toBe(notFound);
    const broken = peerLoadError(
      'tollgate/sqlite',
      'better-sqlite3',
      new Error('invalid ELF header'),
    );
    expect(MissingPeerError.isInstance(broken)).toBe(false);
    expect(ConfigurationError.isInstance(broken)).toBe(true);
    expect(broken.message).toBe(
      'tollgate/sqlite could not load better-sqlite3: Error: invalid ELF header',
    );
  });
});
