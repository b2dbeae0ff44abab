/**
 * The documented production combination under a Redis outage: 8 worker processes, each with
 * `createResilientStore({ primary: <Redis>, local: <Postgres> })`: Redis holds the hot budget
 * counters, every record lands in the shared Postgres ledger first. Redis is killed (SIGKILL,
 * AOF with fsync on every write, as the deployment guide asks for budgets) in the middle of the
 * run and restarted a second later.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { createPostgresStore } from '../../src/postgres/index.js';
import { createRedisStore } from '../../src/redis/index.js';
import { describeRedis, freshPrefix, useRedisServer } from '../redis/support.js';
import { runWorker } from './processes.js';
import { describePostgres, dropStore, freshSchema, sql, usePostgresServer } from './support.js';

interface WorkerTally {
  granted: number;
  degraded: number;
  degradedFemto: string;
  refused: number;
  unavailable: number;
  failed: number;
  pending: number;
  recovered: number;
}

describePostgres('Redis counters, Postgres records, a fleet through a Redis outage', () => {
  describeRedis('8 worker processes', () => {
    const postgres = usePostgresServer();
    const redisServer = useRedisServer({ appendOnly: true, args: ['--appendfsync', 'always'] });

    async function fleet(failMode: 'open' | 'closed') {
      const schema = freshSchema();
      const ledger = await createPostgresStore({ connectionString: postgres().url, schema });
      const prefix = freshPrefix();
      const key = `user:alice:${failMode}`;
      // About 90 calls fit; 8 × 60 are tried, so the budget is reached during the run.
      const limit = 100_000_000_000n;
      const signals = mkdtempSync(join(tmpdir(), 'tollgate-fleet-'));
      const runs = Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          runWorker('fleet-redis.ts', [
            postgres().url,
            schema,
            redisServer().url,
            prefix,
            `${failMode}-w${w}`,
            '60',
            String(limit),
            signals,
            failMode,
            key,
          ]),
        ),
      );
      // Every worker connected, then all start at once; each spends about three seconds on its 60
      // calls, so the outage falls in the middle of the run.
      await vi.waitFor(() => expect(readdirSync(signals)).toHaveLength(8), {
        timeout: 60_000,
        interval: 50,
      });
      writeFileSync(join(signals, 'go'), '');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redisServer().kill();
      await new Promise((resolve) => setTimeout(resolve, 800));
      await redisServer().restart();
      const tallies = (await runs).map((out) => JSON.parse(out) as WorkerTally);
      rmSync(signals, { recursive: true, force: true });
      const total = (field: keyof WorkerTally) =>
        tallies.reduce((sum, t) => sum + Number(t[field]), 0);

      const [row] = await sql<{ calls: number; cost: string }>(
        postgres(),
        `SELECT count(*)::int AS calls, sum(cost_femto)::text AS cost FROM ${ledger.schema}.records`,
      );
      const redis = await createRedisStore({ url: redisServer().url, prefix });
      const [counter] = await redis.counters([key], Date.now());
      const [global] = await redis.counters([`${key}:global`], Date.now());
      await redis.close();
      await dropStore(postgres(), ledger);
      return {
        tallies,
        total,
        ledgerCalls: row?.calls,
        ledgerFemto: BigInt(row?.cost ?? -1),
        counter,
        global,
        limit,
      };
    }

    it('fail-closed: calls are refused while Redis is down; no overspend, counter = ledger, no hold left', async () => {
      const run = await fleet('closed');
      expect(run.total('unavailable')).toBeGreaterThan(0); // the outage hit the fleet
      expect(run.total('recovered')).toBeGreaterThan(0); // and the workers saw Redis come back
      expect(run.total('refused')).toBeGreaterThan(0); // the budget was reached
      expect(run.total('degraded')).toBe(0);
      expect(run.total('pending')).toBe(0); // every queued settle and release replayed
      // Every granted call is in the Postgres ledger once; Redis's counter is the ledger's sum.
      expect(run.ledgerCalls).toBe(run.total('granted'));
      expect(run.counter?.settledFemto).toBe(run.ledgerFemto);
      expect(run.global?.settledFemto).toBe(run.ledgerFemto);
      expect(run.ledgerFemto).toBeLessThanOrEqual(run.limit);
      // Reserves whose answer was lost in the crash were released: nothing is held.
      expect(run.counter?.reservedFemto).toBe(0n);
    });

    it('fail-open: calls go on during the outage; overspend bounded by the degraded calls', async () => {
      const run = await fleet('open');
      expect(run.total('degraded')).toBeGreaterThan(0);
      expect(run.total('unavailable')).toBe(0);
      expect(run.total('pending')).toBe(0);
      expect(run.ledgerCalls).toBe(run.total('granted'));
      expect(run.counter?.settledFemto).toBe(run.ledgerFemto);
      expect(run.counter?.reservedFemto).toBe(0n);
      // The documented bound: past the limit by at most what the unchecked calls cost.
      const degradedFemto = run.tallies.reduce((sum, t) => sum + BigInt(t.degradedFemto), 0n);
      expect(run.ledgerFemto).toBeLessThanOrEqual(run.limit + degradedFemto);
    });
  });
});
