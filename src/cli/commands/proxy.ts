/** `tollgate proxy`: the tracking gateway over the ledger. */

import {
  createProxy,
  createProxyKey,
  PROVIDER_ADAPTERS,
  type ProxyKeyRecord,
  type ProxyProvider,
  type ProxyUpstream,
  serveProxy,
} from '../../proxy/index.js';
import { RateLimiter } from '../../react/rate-limit.js';
import { applyConfig, hashApiKey, watchConfigFile } from '../../server/index.js';
import {
  type Command,
  CommandError,
  firstLine,
  ledgerName,
  listenFlags,
  parse,
  text,
  UsageError,
  write,
} from '../args.js';
import { openLedgerWithRules } from './budgets.js';
import { metricsIfInstalled, stopped } from './serve.js';

/** Where each provider's key and upstream come from. */
const PROVIDER_ENV: Record<ProxyProvider, { keys: string[]; url: string }> = {
  gemini: { keys: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], url: 'TOLLGATE_GEMINI_URL' },
  openai: { keys: ['OPENAI_API_KEY'], url: 'TOLLGATE_OPENAI_URL' },
  anthropic: { keys: ['ANTHROPIC_API_KEY'], url: 'TOLLGATE_ANTHROPIC_URL' },
};

/**
 * `TOLLGATE_PROXY_KEYS`: comma-separated `user:key[:tenant]`, e.g. `alice:tgp_s3cret:acme`.
 * Only the hashes are kept in memory; the key id is `env-<n>`.
 */
export function parseProxyKeys(value: string): ProxyKeyRecord[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, i) => {
      const [userId, key, tenantId, ...extra] = entry.split(':');
      if (!userId || !key || extra.length > 0 || tenantId === '') {
        throw new UsageError(`TOLLGATE_PROXY_KEYS entry ${i + 1}: expected user:key[:tenant]`);
      }
      return {
        id: `env-${i + 1}`,
        hash: hashApiKey(key),
        userId,
        ...(tenantId === undefined ? {} : { tenantId }),
      };
    });
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'run the tracking gateway (Gemini, OpenAI, Anthropic wire formats)',
  help: `Usage: tollgate proxy [--port 8788] [--host 127.0.0.1] [--db PATH] [--pass-through] [--metrics]

Runs the tracking gateway: clients point their SDK's base URL here and use a gateway key in place
of the provider's. Every call is rate limited, reserved against its budgets, forwarded, streamed
back as it arrives, recorded in the ledger with its exact cost, and settled.

Options:
  --port N          the port (default 8788; 0 picks a free one)
  --host H          the interface (default 127.0.0.1: this machine only)
  --db PATH         the SQLite ledger, or a postgres:// URL (default: $TOLLGATE_DB, else
                    outputs/tollgate.db); budgets and rate limits come from its rules file
  --pass-through    also accept the client's own provider key, charging the call to the
                    x-tollgate-user / x-tollgate-tenant headers
  --metrics         serve Prometheus /metrics without credentials (needs prom-client)
  -h, --help        this help

Environment:
  TOLLGATE_PROXY_KEYS   comma-separated user:key[:tenant]; without it (and without
                        --pass-through) a key for user "default" is generated and printed once
  GEMINI_API_KEY        the Gemini key sent upstream (or GOOGLE_API_KEY)
  OPENAI_API_KEY, ANTHROPIC_API_KEY   the other providers' keys
  TOLLGATE_GEMINI_URL   another Gemini upstream (likewise TOLLGATE_OPENAI_URL, TOLLGATE_ANTHROPIC_URL)
  TOLLGATE_CONFIG       the budgets and rate limits file (default: <ledger>.config.json)
`,
  async run(argv, io) {
    const args = parse(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        'pass-through': { type: 'boolean' },
        metrics: { type: 'boolean' },
      },
      { min: 0, max: 0 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const { port, host } = listenFlags(args, 8788);
    const passThrough = args.values['pass-through'] === true;
    let keys = parseProxyKeys(io.env.TOLLGATE_PROXY_KEYS ?? '');
    let generated: string | undefined;
    if (keys.length === 0 && !passThrough) {
      const { key, record } = createProxyKey({ userId: 'default', id: 'generated' });
      keys = [record];
      generated = key;
    }
    const upstreams = upstreamsFrom(io.env, passThrough);
    if (Object.keys(upstreams).length === 0) {
      throw new CommandError(
        'no provider to serve: set GEMINI_API_KEY (or OPENAI_API_KEY, ANTHROPIC_API_KEY), or use --pass-through',
      );
    }
    const metrics = args.values.metrics === true ? metricsIfInstalled({ public: true }) : undefined;
    if (args.values.metrics === true && !metrics) {
      throw new CommandError('--metrics needs the prom-client package: npm install prom-client');
    }

    const { db, settings, config, store, budgets } = await openLedgerWithRules(
      text(args, 'db'),
      io.env,
    );
    const rateLimiter = new RateLimiter({ store, limits: config.rateLimits });
    const proxy = createProxy({
      store,
      upstreams,
      keys,
      passThrough,
      budgets,
      rateLimiter,
      ...(metrics ? { metrics } : {}),
    });
    const stopWatching = watchConfigFile(settings, (next) =>
      applyConfig(next, { budgets, rateLimits: rateLimiter }),
    );
    let running: Awaited<ReturnType<typeof serveProxy>>;
    try {
      running = await serveProxy(proxy, { port, host });
    } catch (error) {
      stopWatching();
      await proxy.close();
      await store.close();
      throw new CommandError(`cannot listen on ${host}:${port}: ${firstLine(error)}`);
    }
    const served = Object.keys(upstreams).join(', ');
    await write(
      io.stdout,
      `tollgate proxy on ${running.url} for ${served} (ledger ${ledgerName(db)}, rules ${settings})\n`,
    );
    if (generated) {
      await write(
        io.stdout,
        `gateway key for user "default" (shown once; set TOLLGATE_PROXY_KEYS to choose your own): ${generated}\n`,
      );
    }
    await stopped();
    stopWatching();
    await running.close();
    await proxy.close();
    await store.close();
    return 0;
  },
};

/** The providers this gateway serves: those with a key (or every one under pass-through). */
function upstreamsFrom(
  env: NodeJS.ProcessEnv,
  passThrough: boolean,
): Partial<Record<ProxyProvider, ProxyUpstream>> {
  const upstreams: Partial<Record<ProxyProvider, ProxyUpstream>> = {};
  for (const adapter of PROVIDER_ADAPTERS) {
    const names = PROVIDER_ENV[adapter.provider];
    const apiKey = names.keys.map((name) => env[name]).find((value) => value);
    const baseUrl = env[names.url] || undefined;
    if (apiKey === undefined && !passThrough) continue;
    upstreams[adapter.provider] = {
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(baseUrl === undefined ? {} : { baseUrl }),
    };
  }
  return upstreams;
}
