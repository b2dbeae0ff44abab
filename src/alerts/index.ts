/**
 * `tollgate/alerts`: budget alerts by webhook (signed, retried, Slack-compatible) and email
 * (nodemailer, loaded on first use), delivered off the tracking path.
 *
 * @example
 * import { createAlertDispatcher, webhookChannel } from 'tollgate/alerts';
 * const alerts = createAlertDispatcher({ channels: [webhookChannel({ url, secret })] });
 * alerts.attach(tracker);
 */
export {
  alertFromBudgetEvent,
  alertFromTrackerEvent,
  alertText,
  type BudgetAlert,
  type BudgetAlertEventLike,
  type BudgetAlertInput,
  createBudgetAlert,
  formatAlertUsd,
} from './alert.js';
export { type AlertChannel, type MemoryChannel, memoryChannel } from './channel.js';
export {
  type AlertDispatcher,
  type AlertDispatcherOptions,
  type AlertErrorHandler,
  type BudgetAlertSource,
  createAlertDispatcher,
  type TrackerAlertSource,
} from './dispatcher.js';
export {
  composeMessage,
  type EmailChannelOptions,
  emailChannel,
  type MailMessage,
  type MailTransport,
  type SmtpOptions,
} from './email.js';
export { AlertDeliveryError } from './errors.js';
export {
  createForecastAlerts,
  type ForecastAlertOptions,
  type ForecastAlerts,
} from './forecast.js';
export type { BackoffOptions } from './retry.js';
export { SIGNATURE_HEADER, signBody, verifySignature } from './signature.js';
export { type WebhookChannelOptions, webhookChannel } from './webhook.js';
