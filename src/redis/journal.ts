/**
 * The replay queue of a `ResilientStore` on disk, so that a process that stops while the primary
 * is down leaves its queued settles, releases and records to the next process instead of losing
 * them. One JSON line per queued operation (amounts as exact integer strings), appended when it
 * is queued and cleared when the queue has drained. Replaying a line twice is harmless: the
 * primary appends each call id once and settles or releases each call once.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  truncateSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError } from '../errors.js';
import type { BudgetCounter, LedgerRecord } from '../keep/types.js';
import { writeFileAtomic } from '../show/export.js';

/** An operation waiting to be replayed to the primary. */
export type Pending =
  | { op: 'append'; records: readonly LedgerRecord[] }
  | { op: 'settle'; callId: string; actualFemto: bigint; counters: BudgetCounter[]; now: number }
  | { op: 'release'; callId: string; now: number };

/** A bigint in JSON: `{ "$bigint": "123" }`, the one shape these files give that key. */
const BIGINT = '$bigint';

function encode(pending: Pending): string {
  return `${JSON.stringify(pending, (_key, value) =>
    typeof value === 'bigint' ? { [BIGINT]: value.toString() } : value,
  )}\n`;
}

function decode(line: string): Pending | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line, (_key, raw) => {
      if (typeof raw === 'object' && raw !== null && typeof raw[BIGINT] === 'string') {
        return /^-?\d+$/.test(raw[BIGINT]) ? BigInt(raw[BIGINT]) : Number.NaN;
      }
      return raw;
    });
  } catch {
    return undefined;
  }
  return isPending(value) ? value : undefined;
}

/** The shape each operation needs to be replayed at all; the primary validates the rest. */
function isPending(value: unknown): value is Pending {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  switch (p.op) {
    case 'append':
      return (
        Array.isArray(p.records) &&
        p.records.every(
          (r) =>
            typeof r === 'object' &&
            r !== null &&
            typeof r.callId === 'string' &&
            typeof r.costFemto === 'bigint',
        )
      );
    case 'settle':
      return (
        typeof p.callId === 'string' &&
        typeof p.actualFemto === 'bigint' &&
        Array.isArray(p.counters) &&
        p.counters.every((c) => typeof c?.key === 'string' && typeof c.limitFemto === 'bigint') &&
        Number.isFinite(p.now)
      );
    case 'release':
      return typeof p.callId === 'string' && Number.isFinite(p.now);
    default:
      return false;
  }
}

export class ReplayJournal {
  /** Creates the file if needed; a path that cannot be written is a `ConfigurationError` now. */
  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, 'a'));
    } catch (cause) {
      throw new ConfigurationError(`journalPath: cannot write ${path}`, { cause });
    }
  }

  /**
   * The operations a previous process left, in order. A line that is not one (cut short when
   * that process died mid-write, or edited) is skipped and counted.
   */
  load(): { operations: Pending[]; invalid: number } {
    const operations: Pending[] = [];
    let invalid = 0;
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const pending = decode(line);
      if (pending) operations.push(pending);
      else invalid += 1;
    }
    return { operations, invalid };
  }

  add(pending: Pending): void {
    appendFileSync(this.path, encode(pending));
  }

  /** Replaces the file with `queue` (after the oldest operations were dropped). */
  rewrite(queue: readonly Pending[]): void {
    writeFileAtomic(this.path, queue.map(encode).join(''));
  }

  clear(): void {
    truncateSync(this.path, 0);
  }
}
