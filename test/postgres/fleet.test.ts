import { expect, it } from 'vitest';
import { createPostgresStore } from '../../src/postgres/index.js';
import { runWorker } from './processes.js';
import { describePostgres, dropStore, freshSchema, sql, usePostgresServer } from './support.js';

describePostgres('a fleet of worker processes on one Postgres ledger', () => {
  const server = usePostgresServer();

  it('8 processes on one hard budget: no overspend, ledger sum = counter exactly, no hold left', async () => {
    const schema = freshSchema();
    const store = await createPostgresStore({ connectionString: server().url, schema });
    // About 90 calls fit; 8 × 40 are tried, so most of the fleet is refused near the limit.
    const limit = 100_000_000_000n;
    const startAt = String(Date.now() + 4_000);
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        runWorker('fleet.ts', [server().url, schema, `w${w}`, '40', String(limit), startAt]),
      ),
    );
    const results = runs.map(
      (out) => JSON.parse(out) as { granted: number; refused: number; failed: number },
    );
    const granted = results.reduce((s, r) => s + r.granted, 0);
    const refused = results.reduce((s, r) => s + r.refused, 0);
    expect(refused).toBeGreaterThan(0); // the budget was really reached
    expect(results.filter((r) => r.granted > 0).length).toBeGreaterThan(1); // by several workers

    const [ledger] = await sql<{ calls: number; cost: string }>(
      server(),
      `SELECT count(*)::int AS calls, sum(cost_femto)::text AS cost FROM ${store.schema}.records`,
    );
    const day = new Date(Number(startAt)).toISOString().slice(0, 10);
    const [counter] = await store.counters([`user:alice:day:${day}`], Date.now());
    const [global] = await store.counters([`global:day:${day}`], Date.now());
    expect(ledger?.calls).toBe(granted);
    expect(counter?.settledFemto).toBe(BigInt(ledger?.cost ?? -1));
    expect(global?.settledFemto).toBe(BigInt(ledger?.cost ?? -1));
    // Zero overspend: actual costs never exceed the estimates reserved under the hard limit.
    expect(counter?.settledFemto).toBeLessThanOrEqual(limit);
    expect(counter?.reservedFemto).toBe(0n);
    const [holds] = await sql<{ n: number }>(
      server(),
      `SELECT count(*)::int AS n FROM ${store.schema}.reservations`,
    );
    expect(holds?.n).toBe(0);
    // Not refused early: a worker holds at most one reservation (< $0.002) at a time, so what
    // is left unspent is below the last refused estimate plus the eight workers' holds.
    expect(limit - (counter?.settledFemto ?? 0n)).toBeLessThan(9n * 2_000_000_000n);
    await dropStore(server(), store);
  });
});
