/** `tollgate serve`: the HTTP API over the SQLite ledger. */
import { createRequire } from 'node:module';
import { MissingPeerError } from '../../errors.js';
import {
  type ApiKeyRecord,
  applyChange,
  applyConfig,
  createApiKey,
  createHandler,
  createMetrics,
  hashApiKey,
  serve as listen,
  RateLimitList,
  type Role,
  updateConfigFile,
  watchConfigFile,
} from '../../server/index.js';
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
import { ratesFromFlag } from '../currency.js';
import {
  ALERT_ENV_HELP,
  alertChannels,
  forecastInterval,
  watchForecasts,
} from '../serve-alerts.js';
import { openLedgerWithRules } from './budgets.js';

/**
 * `TOLLGATE_API_KEYS`: comma-separated `role:key[:tenant]`, e.g. `admin:s3cret,viewer:k2:acme`.
 * Only the hashes are kept in memory.
 */
export function parseApiKeys(value: string): ApiKeyRecord[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, i) => {
      const [role, key, tenant, ...extra] = entry.split(':');
      if ((role !== 'admin' && role !== 'viewer') || !key || extra.length > 0 || tenant === '') {
        throw new UsageError(
          `TOLLGATE_API_KEYS entry ${i + 1}: expected role:key[:tenant] with role admin or viewer`,
        );
      }
      return {
        id: `env-${i + 1}`,
        hash: hashApiKey(key),
        role: role as Role,
        ...(tenant === undefined ? {} : { tenantId: tenant }),
      };
    });
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the HTTP API and /metrics over the ledger',
  help: `Usage: tollgate serve [--port 8787] [--host 127.0.0.1] [--db PATH] [--forecast-every 15m]

Serves the usage, budget and rate-limit API and Prometheus /metrics over the SQLite ledger.
With an alert channel in the environment, it checks every budget rule's forecast at start and
every --forecast-every, and sends a budget_forecast alert once per rule (and user…) and window
when the projection passes the limit.

Options:
  --port N      the port (default 8787; 0 picks a free one)
  --host H      the interface (default 127.0.0.1: this machine only)
  --db PATH     the SQLite ledger, or a postgres:// URL (default: $TOLLGATE_DB, else
                outputs/tollgate.db)
  --forecast-every D   how often forecasts are checked for alerts: 30s, 15m, 1h (default 15m)
  --rates FILE|ecb     exchange rates for ?currency= and the dashboard's currency choice: a JSON
                       file, or the ECB's daily rates (read at start; 5 s timeout,
                       TOLLGATE_FX_RATES as offline fallback); default TOLLGATE_FX_RATES
  -h, --help    this help

Environment:
  TOLLGATE_API_KEYS    comma-separated role:key[:tenant] (role admin or viewer); without it an
                       admin key is generated and printed once
  TOLLGATE_JWT_SECRET  also accept HS256 bearer tokens with a role (and tenant) claim
  TOLLGATE_CONFIG      the budgets and rate limits file (default: <ledger>.config.json); the
                       forecast alerts sent are remembered beside it (<config>.alerts-sent.json)
${ALERT_ENV_HELP}`,
  async run(argv, io) {
    const args = parse(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        'forecast-every': { type: 'string' },
        rates: { type: 'string' },
      },
      { min: 0, max: 0 },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const { port, host } = listenFlags(args, 8787);
    let apiKeys = parseApiKeys(io.env.TOLLGATE_API_KEYS ?? '');
    let generated: string | undefined;
    if (apiKeys.length === 0) {
      const { key, record } = createApiKey('admin');
      apiKeys = [record];
      generated = key;
    }
    const secret = io.env.TOLLGATE_JWT_SECRET;
    // Said before anything starts, rather than at the first request that carries a token.
    if (secret && !installed('jose')) {
      throw new CommandError('TOLLGATE_JWT_SECRET needs the jose package: npm install jose');
    }
    const forecastEvery = forecastInterval(text(args, 'forecast-every'));
    const channels = alertChannels(io.env);
    const fxRates = await ratesFromFlag(text(args, 'rates'), io.env);
    const { db, settings, config, store, budgets } = await openLedgerWithRules(
      text(args, 'db'),
      io.env,
    );
    const rateLimits = new RateLimitList(config.rateLimits);
    const metrics = metricsIfInstalled();
    const stopFollowing = metrics?.follow(store) ?? (() => {});
    const handler = createHandler({
      store,
      budgets,
      rateLimiter: rateLimits,
      ...(fxRates ? { fxRates } : {}),
      auth: { apiKeys, ...(secret ? { jwt: { secret } } : {}) },
      ...(metrics ? { metrics } : {}),
      // Read-modify-write under the file's lock: a change made meanwhile by the CLI or another
      // server is kept, not overwritten with this server's copy.
      onChange: async (change) => {
        await updateConfigFile(settings, (current) => applyChange(current, change));
      },
    });
    // And changes made elsewhere reach this server.
    const stopWatching = watchConfigFile(settings, (next) =>
      applyConfig(next, { budgets, rateLimits }),
    );
    let running: Awaited<ReturnType<typeof listen>>;
    try {
      running = await listen(handler, { port, host });
    } catch (error) {
      stopWatching();
      stopFollowing();
      await store.close();
      throw new CommandError(`cannot listen on ${host}:${port}: ${firstLine(error)}`);
    }
    const stopForecasts = watchForecasts({
      channels,
      store,
      rules: () => budgets.listRules(),
      intervalMs: forecastEvery,
      sentPath: `${settings.replace(/\.json$/, '')}.alerts-sent.json`,
      onFirstCheck: (sent) => {
        write(io.stdout, `forecasts checked: ${sent} budget_forecast alert(s) sent\n`);
      },
    });
    await write(
      io.stdout,
      `tollgate dashboard and API on ${running.url}/ (ledger ${ledgerName(db)}, rules ${settings})\n`,
    );
    if (channels.length > 0) {
      await write(
        io.stdout,
        `budget_forecast alerts by ${channels.map((c) => c.name).join(' and ')}, checked every ${text(args, 'forecast-every') ?? '15m'}\n`,
      );
    }
    if (!metrics) {
      await write(io.stdout, '/metrics is off: npm install prom-client to serve it\n');
    }
    if (generated) {
      await write(
        io.stdout,
        `admin API key (shown once; set TOLLGATE_API_KEYS to choose your own): ${generated}\n`,
      );
    }
    await stopped();
    await stopForecasts();
    stopWatching();
    stopFollowing();
    await running.close();
    await store.close();
    return 0;
  },
};

/** Whether a package can be loaded from here (an optional peer of tollgate). */
export function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Prometheus metrics when prom-client is installed; without it the server runs without them. */
export function metricsIfInstalled(
  options?: Parameters<typeof createMetrics>[0],
): ReturnType<typeof createMetrics> | undefined {
  try {
    return createMetrics(options);
  } catch (error) {
    if (MissingPeerError.isInstance(error)) return undefined;
    throw error;
  }
}

/** Resolves on SIGINT or SIGTERM. */
export function stopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
