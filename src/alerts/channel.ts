import type { BudgetAlert } from './alert.js';

/**
 * Where alerts go. A channel is a plugin (as an OpenTelemetry exporter is): `send` delivers one
 * alert, retrying as the channel sees fit, and rejects when it finally gives up; the dispatcher
 * queues, orders and reports. Write your own for Teams, PagerDuty, a queue…
 *
 * @example
 * const log: AlertChannel = { name: 'log', send: async (alert) => console.log(alert.text) };
 */
export interface AlertChannel {
  /** Names the channel in errors and `onError` reports. */
  readonly name: string;
  /** Delivers one alert; rejects when it could not (the dispatcher retries per the channel's own policy). */
  send(alert: BudgetAlert): Promise<void>;
  /** Releases what the channel holds (an SMTP pool…). Called once, by `dispatcher.close()`. */
  close?(): Promise<void>;
}

/** A channel that keeps what it receives: the test double. */
export interface MemoryChannel extends AlertChannel {
  /** Every alert received, in order. */
  readonly alerts: BudgetAlert[];
  /** Forgets the alerts received so far. */
  reset(): void;
}

/**
 * An in-memory channel for tests and demos: alerts land in `channel.alerts`.
 *
 * @example
 * const memory = memoryChannel();
 * const alerts = createAlertDispatcher({ channels: [memory] });
 * alerts.attach(tracker);
 * // … record calls …
 * await alerts.flush();
 * expect(memory.alerts.map((a) => a.kind)).toEqual(['warning', 'exceeded']);
 */
export function memoryChannel(name = 'memory'): MemoryChannel {
  const alerts: BudgetAlert[] = [];
  return {
    name,
    alerts,
    /** Keeps the alert in `alerts`. */
    async send(alert) {
      alerts.push(alert);
    },
    reset() {
      alerts.length = 0;
    },
  };
}
