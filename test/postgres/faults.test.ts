import { expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import type { LedgerRecord } from '../../src/keep/types.js';
import { createPostgresStore, PARTITIONED, type PostgresStore } from '../../src/postgres/index.js';
import { ledgerRecords } from '../keep/fixtures.js';
import { describePostgres, dropStore, freshSchema, sql, usePostgresServer } from './support.js';

const BATCHES = 40;
const BATCH = 250;

/** Total records and cost in the ledger, by a direct SQL sum, and in the rollup. */
async function totals(server: Parameters<typeof sql>[0], store: PostgresStore) {
  const [records] = await sql<{ n: number; cost: string; distinct: number }>(
    server,
    `SELECT count(*)::int AS n, count(DISTINCT call_id)::int AS distinct, COALESCE(sum(cost_femto), 0)::text AS cost FROM ${store.schema}.records`,
  );
  const rollupSum = async (table: string) =>
    (
      await sql<{ n: number; cost: string }>(
        server,
        `SELECT COALESCE(sum(calls), 0)::int AS n, COALESCE(sum(cost_femto), 0)::text AS cost FROM ${store.schema}.${table}`,
      )
    )[0];
  const rollup = await rollupSum('rollup_hourly');
  // The other rollups are written by the same statement: they must agree to the femto-dollar.
  for (const table of PARTITIONED.filter((t) => t !== 'records' && t !== 'rollup_hourly')) {
    expect(await rollupSum(table), table).toEqual(rollup);
  }
  return { records, rollup };
}

/**
 * Appends batch after batch as a tracker flush does: a batch whose append failed is sent again
 * until it is acknowledged. `disturb(i)` runs before batch i.
 */
async function appendThrough(
  store: PostgresStore,
  disturb: (batch: number) => Promise<void>,
  size = BATCH,
): Promise<{ acknowledged: LedgerRecord[]; failures: unknown[] }> {
  const acknowledged: LedgerRecord[] = [];
  const failures: unknown[] = [];
  for (let i = 0; i < BATCHES; i++) {
    const batch = ledgerRecords(size, (j) => ({
      userId: `u${j % 7}`,
      costFemto: BigInt(1_000_003 + i * size + j),
    }));
    const sending = store.append(batch);
    sending.catch(() => {}); // seen below, after the disturbance
    await disturb(i);
    for (let attempt = 0; ; attempt++) {
      try {
        await (attempt === 0 ? sending : store.append(batch));
        acknowledged.push(...batch);
        break;
      } catch (error) {
        failures.push(error);
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  return { acknowledged, failures };
}

describePostgres('Postgres appends survive dropped connections and a server restart', () => {
  const server = usePostgresServer();

  it.each([
    ['batches of 250', BATCH],
    ['batches of 2,500 split over 2 connections', 2_500],
  ])(
    "killing the store's backends mid-batch (%s) loses no acknowledged record and counts none twice",
    async (_, size) => {
      const app = `tollgate-kill-${process.pid}-${size}`;
      const store = await createPostgresStore({
        connectionString: `${server().url}?application_name=${app}`,
        schema: freshSchema(),
      });
      let kills = 0;
      const { acknowledged } = await appendThrough(
        store,
        async (i) => {
          if (i % 3 !== 1) return;
          const killed = await sql(
            server(),
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
            [app],
          );
          kills += killed.length;
        },
        size,
      );
      expect(kills).toBeGreaterThan(5);
      const { records, rollup } = await totals(server(), store);
      const cost = acknowledged.reduce((s, r) => s + r.costFemto, 0n);
      expect(records).toEqual({ n: BATCHES * size, distinct: BATCHES * size, cost: String(cost) });
      expect(rollup).toEqual({ n: BATCHES * size, cost: String(cost) });
      await dropStore(server(), store);
    },
  );

  it('stopping Postgres mid-run fails appends with StoreUnavailableError; after the restart every acknowledged record is there once', async () => {
    const store = await createPostgresStore({
      connectionString: server().url,
      schema: freshSchema(),
    });
    const { acknowledged, failures } = await appendThrough(store, async (i) => {
      if (i !== 15) return;
      await server().stop();
      // Down for a while: the retries of the flush meet a closed port, then the server again.
      setTimeout(() => {
        server()
          .restart()
          .catch(() => {});
      }, 1_500);
    });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(StoreUnavailableError.isInstance(failure)).toBe(true);
    const { records, rollup } = await totals(server(), store);
    const cost = acknowledged.reduce((s, r) => s + r.costFemto, 0n);
    expect(records).toEqual({ n: BATCHES * BATCH, distinct: BATCHES * BATCH, cost: String(cost) });
    expect(rollup).toEqual({ n: BATCHES * BATCH, cost: String(cost) });
    expect(new Set(acknowledged.map((r) => r.callId)).size).toBe(BATCHES * BATCH);
    await dropStore(server(), store);
  });
});
