/**
 * `tollgate serve`'s alerts: the channels named by the environment, and the `budget_forecast`
 * watcher over the server's budget rules and ledger.
 */

import {
  type AlertChannel,
  createAlertDispatcher,
  createForecastAlerts,
  emailChannel,
  webhookChannel,
} from '../alerts/index.js';
import { ConfigurationError } from '../errors.js';
import type { Store } from '../keep/types.js';
import type { BudgetRule } from '../react/budgets/rules.js';
import { UsageError } from './args.js';

export const ALERT_ENV_HELP = `  TOLLGATE_ALERT_WEBHOOK         a webhook URL for budget_forecast alerts (signed; needs
                                 TOLLGATE_ALERT_WEBHOOK_SECRET)
  TOLLGATE_ALERT_SMTP            an smtp:// or smtps:// URL for alert email (needs nodemailer),
                                 with TOLLGATE_ALERT_EMAIL_FROM and TOLLGATE_ALERT_EMAIL_TO (a,b)
`;

/** The channels the environment names (none: no alerts). A half-given channel is a UsageError. */
export function alertChannels(env: NodeJS.ProcessEnv): AlertChannel[] {
  const channels: AlertChannel[] = [];
  try {
    const url = env.TOLLGATE_ALERT_WEBHOOK;
    if (url) {
      const secret = env.TOLLGATE_ALERT_WEBHOOK_SECRET;
      if (!secret) {
        throw new UsageError('TOLLGATE_ALERT_WEBHOOK needs TOLLGATE_ALERT_WEBHOOK_SECRET');
      }
      channels.push(webhookChannel({ url, secret }));
    }
    const smtp = env.TOLLGATE_ALERT_SMTP;
    if (smtp) {
      const from = env.TOLLGATE_ALERT_EMAIL_FROM;
      const to = (env.TOLLGATE_ALERT_EMAIL_TO ?? '')
        .split(',')
        .map((address) => address.trim())
        .filter((address) => address !== '');
      if (!from || to.length === 0) {
        throw new UsageError(
          'TOLLGATE_ALERT_SMTP needs TOLLGATE_ALERT_EMAIL_FROM and TOLLGATE_ALERT_EMAIL_TO',
        );
      }
      channels.push(emailChannel({ transport: smtp, from, to }));
    }
  } catch (error) {
    if (ConfigurationError.isInstance(error)) throw new UsageError(error.message);
    throw error;
  }
  return channels;
}

/** `--forecast-every`: `30s`, `15m`, `1h`; at least a second. */
export function forecastInterval(value: string | undefined): number {
  const match = /^(\d{1,6})(s|m|h)$/.exec(value ?? '15m');
  const ms = match ? Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's'] : 0;
  if (!match || ms < 1_000 || ms > 2_147_483_647) {
    throw new UsageError(
      `--forecast-every: expected a duration such as 30s, 15m or 1h, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/**
 * Starts the forecast watcher when channels are given: a check now and every `intervalMs`, each
 * rule's alert sent once per window (remembered in `sentPath` across restarts). Returns a stop
 * that drains pending deliveries.
 */
export function watchForecasts(options: {
  channels: AlertChannel[];
  store: Pick<Store, 'summarize'>;
  rules: () => readonly BudgetRule[];
  intervalMs: number;
  sentPath: string;
  /** Told how many alerts the first check sent. */
  onFirstCheck?: (sent: number) => void;
}): () => Promise<void> {
  if (options.channels.length === 0) return async () => {};
  const dispatcher = createAlertDispatcher({ channels: options.channels });
  const watch = createForecastAlerts({
    dispatcher,
    store: options.store,
    rules: options.rules,
    sentPath: options.sentPath,
  });
  watch
    .check()
    .then((sent) => options.onFirstCheck?.(sent.length))
    .catch((error) => console.error('[tollgate] forecast alerts failed:', error));
  const stop = watch.start(options.intervalMs);
  return async () => {
    stop();
    await dispatcher.close();
  };
}
