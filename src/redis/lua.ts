/**
 * A Lua script run with EVALSHA, falling back to EVAL once when the server does not know it yet
 * (first use, or after a restart flushed the script cache). The server then caches it again.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connect.js';

export type LuaArg = string | number;

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly LuaArg[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Lua numbers are doubles: every amount a script adds or compares must stay below 2^53.
 * Redis hands a Lua number to a command as its `%.17g` form, which is the exact integer there.
 */
export const MAX_LUA_INTEGER = 2n ** 53n - 1n;
