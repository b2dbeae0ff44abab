/**
 * The alert dispatcher: turns budget events into alerts and hands them to channels without ever
 * touching the tracking path. Listeners only enqueue; delivery runs later, in order per channel,
 * and whatever fails ends in `onError`.
 */
import { ConfigurationError, describe } from '../errors.js';
import type { BudgetEvent } from '../react/events.js';
import {
  alertFromBudgetEvent,
  alertFromTrackerEvent,
  type BudgetAlert,
  type BudgetAlertEventLike,
  type BudgetAlertInput,
  createBudgetAlert,
} from './alert.js';
import type { AlertChannel } from './channel.js';
import { AlertDeliveryError } from './errors.js';

/** Where a failed delivery is reported. */
export type AlertErrorHandler = (
  error: unknown,
  context: { alert: BudgetAlert | undefined; channel: string | undefined },
) => void;

/**
 * Options of `createAlertDispatcher`.
 *
 * @example
 * createAlertDispatcher({ channels: [memoryChannel()], onError: (error) => console.error(error) });
 */
export interface AlertDispatcherOptions {
  channels: readonly AlertChannel[];
  /** Called with each alert a channel could not deliver (default: `console.error`). */
  onError?: AlertErrorHandler;
  /**
   * Most deliveries waiting at once, over all channels (default 1,000). Beyond it new alerts are
   * reported to `onError` and dropped, so a dead endpoint cannot grow memory without bound.
   */
  maxPending?: number;
}

/** A TokenTracker, as far as alerts care: its session budget events. */
export interface TrackerAlertSource {
  readonly sessionId: string;
  /** Present on every TokenTracker: tells a tracker from a BudgetManager. */
  record: (...args: never[]) => unknown;
  /** Subscribes to the tracker's budget events. */
  on(event: 'budget_warning' | 'budget_exceeded', listener: (event: BudgetEvent) => void): unknown;
  /** Unsubscribes from the tracker's budget events. */
  off(event: 'budget_warning' | 'budget_exceeded', listener: (event: BudgetEvent) => void): unknown;
}

/** A BudgetManager, or anything emitting `budget_alert` events of its documented shape. */
export interface BudgetAlertSource {
  /** Subscribes to the manager's `budget_alert` events. */
  on(event: 'budget_alert', listener: (event: BudgetAlertEventLike) => void): unknown;
  /** Unsubscribes from the manager's `budget_alert` events. */
  off(event: 'budget_alert', listener: (event: BudgetAlertEventLike) => void): unknown;
}

/**
 * Sends the budget events of attached trackers and budget managers to its channels, queued, so delivery never blocks or breaks tracking.
 *
 * @example
 * const alerts = createAlertDispatcher({ channels: [webhookChannel({ url, secret })] });
 * alerts.attach(tracker);
 * await alerts.close();
 */
export interface AlertDispatcher {
  /**
   * Queues an alert for every channel and returns at once. The promise settles when every
   * channel is done with it, and never rejects (failures go to `onError`).
   */
  send(alert: BudgetAlertInput): Promise<void>;
  /**
   * Subscribes to a TokenTracker (`budget_warning`, `budget_exceeded`) or a BudgetManager
   * (`budget_alert`; it already fires once per window across processes). Returns a function
   * that unsubscribes. Attaching a source that is already attached changes nothing and returns
   * the same function.
   */
  attach(source: TrackerAlertSource | BudgetAlertSource): () => void;
  /** Resolves once every alert queued so far has been delivered or reported. */
  flush(): Promise<void>;
  /**
   * Detaches from every source, flushes, then closes the channels. Later sends are reported.
   * Retries in progress are waited for: with the webhook defaults, at most about 6 s of backoff
   * plus 5 s per attempt for an endpoint that never answers.
   */
  close(): Promise<void>;
}

/**
 * Sends budget alerts to webhooks, email or any `AlertChannel`, off the tracking path.
 *
 * @example
 * const alerts = createAlertDispatcher({
 *   channels: [
 *     webhookChannel({ url: process.env.SLACK_WEBHOOK_URL!, secret: process.env.ALERT_SECRET! }),
 *     emailChannel({ transport: { host: 'smtp.example.com', port: 587 }, from: 'tollgate@example.com', to: 'ops@example.com' }),
 *   ],
 * });
 * alerts.attach(tracker);   // session budget: 90% and 100%
 * alerts.attach(budgets);   // BudgetManager rules: once per window
 * process.on('beforeExit', () => alerts.close());
 */
export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const channels = options?.channels;
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new ConfigurationError(
      `createAlertDispatcher: channels must be a non-empty array of channels, got ${describe(channels)}`,
    );
  }
  channels.forEach((channel, index) => {
    if (typeof channel?.send !== 'function' || typeof channel.name !== 'string') {
      throw new ConfigurationError(
        `createAlertDispatcher: channels.${index} must have a name and a send(alert) method, got ${describe(channel)}`,
      );
    }
  });
  const maxPending = options.maxPending ?? 1000;
  if (!Number.isSafeInteger(maxPending) || maxPending <= 0) {
    throw new ConfigurationError(
      `createAlertDispatcher: maxPending must be a positive integer, got ${describe(options.maxPending)}`,
    );
  }
  return new Dispatcher(channels, options.onError ?? logError, maxPending);
}

const logError: AlertErrorHandler = (error, { alert, channel }) => {
  console.error(
    `[tollgate] alert ${alert ? `"${alert.text}" ` : ''}not delivered${channel ? ` by ${channel}` : ''}:`,
    error,
  );
};

class Dispatcher implements AlertDispatcher {
  /** The last delivery queued per channel: the next one starts after it (order is kept). */
  private readonly tails = new Map<AlertChannel, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Each attached source and its detach: attaching one twice must not double its alerts. */
  private readonly attached = new Map<object, () => void>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly channels: readonly AlertChannel[],
    private readonly onError: AlertErrorHandler,
    private readonly maxPending: number,
  ) {}

  send(input: BudgetAlertInput): Promise<void> {
    if (this.closing) {
      this.report(new ConfigurationError('the alert dispatcher is closed'), undefined, undefined);
      return Promise.resolve();
    }
    let alert: BudgetAlert;
    try {
      alert = createBudgetAlert(input);
    } catch (error) {
      this.report(error, undefined, undefined);
      return Promise.resolve();
    }
    return Promise.all(this.channels.map((channel) => this.enqueue(channel, alert))).then(noop);
  }

  attach(source: TrackerAlertSource | BudgetAlertSource): () => void {
    // A second listener on the same source would send every alert twice.
    const existing = this.attached.get(source);
    if (existing) return existing;
    let detach: () => void;
    if (isTracker(source)) {
      const listener = (event: BudgetEvent) => {
        this.guard(() => this.send(alertFromTrackerEvent(event, source.sessionId)));
      };
      source.on('budget_warning', listener);
      source.on('budget_exceeded', listener);
      detach = () => {
        source.off('budget_warning', listener);
        source.off('budget_exceeded', listener);
      };
    } else if (typeof source?.on === 'function') {
      const listener = (event: BudgetAlertEventLike) => {
        this.guard(() => this.send(alertFromBudgetEvent(event)));
      };
      source.on('budget_alert', listener);
      detach = () => source.off('budget_alert', listener);
    } else {
      throw new ConfigurationError(
        `attach: expected a TokenTracker or a BudgetManager, got ${describe(source)}`,
      );
    }
    const once = () => {
      if (this.attached.get(source) !== once) return;
      this.attached.delete(source);
      detach();
    };
    this.attached.set(source, once);
    return once;
  }

  async flush(): Promise<void> {
    // Deliveries queued while waiting are awaited too.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const detach of [...this.attached.values()]) detach();
    await this.flush();
    await Promise.all(
      this.channels.map(async (channel) => {
        try {
          await channel.close?.();
        } catch (error) {
          this.report(error, undefined, channel.name);
        }
      }),
    );
  }

  private enqueue(channel: AlertChannel, alert: BudgetAlert): Promise<void> {
    if (this.inFlight.size >= this.maxPending) {
      // Typed like any other undelivered alert, so an onError can tell it apart and count it.
      this.report(
        new AlertDeliveryError({
          channel: channel.name,
          alertId: alert.id,
          attempts: 0,
          reason: `${this.maxPending} alert deliveries already pending; alert dropped`,
        }),
        alert,
        channel.name,
      );
      return Promise.resolve();
    }
    const previous = this.tails.get(channel) ?? Promise.resolve();
    // `then` defers the send past the caller's stack: a tracker listener returns at once.
    const delivery = previous
      .then(() => channel.send(alert))
      .then(noop, (error: unknown) => this.report(error, alert, channel.name));
    this.tails.set(channel, delivery);
    this.inFlight.add(delivery);
    void delivery.then(() => {
      this.inFlight.delete(delivery);
      if (this.tails.get(channel) === delivery) this.tails.delete(channel);
    });
    return delivery;
  }

  /** Runs `fn` on the listener path: nothing it throws may reach the tracker. */
  private guard(fn: () => unknown): void {
    try {
      fn();
    } catch (error) {
      this.report(error, undefined, undefined);
    }
  }

  private report(error: unknown, alert: BudgetAlert | undefined, channel: string | undefined) {
    try {
      this.onError(error, { alert, channel });
    } catch {
      // An onError that throws has nowhere left to report to; delivery must still not break.
    }
  }
}

function isTracker(source: TrackerAlertSource | BudgetAlertSource): source is TrackerAlertSource {
  return typeof (source as Partial<TrackerAlertSource>)?.record === 'function';
}

function noop(): void {}
