/**
 * A gateway in front of the Gemini stand-in, over loopback, with a SQLite ledger in a temporary
 * folder: the pieces every proxy test starts and stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/keep/types.js';
import {
  createProxy,
  createProxyKey,
  type ProxyKeyRecord,
  type ProxyOptions,
  serveProxy,
  type TollgateProxy,
} from '../../src/proxy/index.js';
import type { RunningServer } from '../../src/server/node.js';
import { createSqliteStore } from '../../src/sqlite/index.js';
import {
  type GeminiStandIn,
  type GeminiStandInOptions,
  startGeminiStandIn,
} from '../../src/testing/index.js';

/** The provider key only the gateway knows; the stand-in refuses any other. */
export const PROVIDER_KEY = 'provider-secret-key-0123456789';

export interface Gateway {
  standIn: GeminiStandIn;
  proxy: TollgateProxy;
  running: RunningServer;
  url: string;
  store: Store;
  key: string;
  record: ProxyKeyRecord;
  dir: string;
  stop(): Promise<void>;
}

/** Starts the stand-in, a SQLite ledger and a gateway with one key (alice of acme). */
export async function startGateway(
  options: {
    standIn?: GeminiStandInOptions;
    proxy?: Partial<ProxyOptions>;
    key?: Partial<ProxyKeyRecord>;
    store?: Store;
  } = {},
): Promise<Gateway> {
  const standIn = await startGeminiStandIn({ apiKey: PROVIDER_KEY, ...options.standIn });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-proxy-'));
  const store = options.store ?? createSqliteStore({ path: join(dir, 'ledger.db') });
  const { key, record } = createProxyKey({ userId: 'alice', tenantId: 'acme', ...options.key });
  const proxy = createProxy({
    store,
    keys: [record],
    upstreams: { gemini: { baseUrl: standIn.url, apiKey: PROVIDER_KEY } },
    ...options.proxy,
  });
  const running = await serveProxy(proxy, { port: 0 });
  return {
    standIn,
    proxy,
    running,
    url: running.url,
    store,
    key,
    record,
    dir,
    async stop() {
      await running.close();
      await proxy.close();
      await standIn.close();
      if (!options.store) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every record in the ledger (the gateway's buffer flushed first). */
export async function ledger(gateway: Gateway) {
  await gateway.proxy.flush();
  const page = await gateway.store.query({ limit: 10_000 });
  return page.records;
}
