import { InvalidUsageError } from '../errors.js';
import type { UsageRepair } from './types.js';

/**
 * Reads token counts out of untrusted provider objects.
 *
 * Every provider normalizer reads its fields through one `CountReader`, so bad input is
 * handled the same way everywhere: in strict mode the first bad value throws
 * `InvalidUsageError` naming the field; in lenient mode the value is repaired by the
 * documented rule below and the repair is listed, never silently swallowed.
 *
 * Lenient repairs of a single value:
 * - `undefined` / `null`: absent, no repair (the caller decides the default);
 * - numeric string (`"42"`): parsed;
 * - bigint within the safe range: converted;
 * - fractional number: rounded to the nearest integer;
 * - negative number: 0;
 * - NaN, ±Infinity, numbers above 2^53 - 1, and anything else (objects, booleans, text): absent.
 *
 * Reading a clean value allocates nothing: field paths are only built when a repair is
 * recorded, and the repair list is only created for the first repair.
 */
export class CountReader {
  /** The reader whose list holds the repairs (itself, or the reader `nested()` came from). */
  private readonly root: CountReader;
  /** Made on the first repair (on the root reader only). */
  private list: UsageRepair[] | undefined = undefined;

  constructor(
    private readonly strict: boolean,
    private readonly prefix = '',
    root?: CountReader,
  ) {
    this.root = root ?? this;
  }

  /** The repairs recorded so far (by this reader and its nested readers). */
  get repairs(): UsageRepair[] {
    const root = this.root;
    if (root.list === undefined) root.list = [];
    return root.list;
  }

  /** The repairs recorded so far, or `undefined` when there are none (allocates nothing). */
  repairList(): UsageRepair[] | undefined {
    const list = this.root.list;
    return list !== undefined && list.length > 0 ? list : undefined;
  }

  /**
   * Reads a count; returns `undefined` when absent (or unusable, after recording a repair).
   *
   * `parent` and `index` only name the field in a repair or error: reading `tokenCount` from
   * `source = details[2]` with `parent = 'promptTokensDetails', index = 2` reports the field
   * as `promptTokensDetails[2].tokenCount`.
   */
  count(
    source: Record<string, unknown>,
    key: string,
    parent?: string,
    index?: number,
  ): number | undefined {
    return this.read(source[key], key, parent, index);
  }

  /**
   * Validates a count the caller has already loaded: `reader.read(raw.promptTokenCount,
   * 'promptTokenCount')` is `reader.count(raw, 'promptTokenCount')`. Hot code uses this form:
   * a named property load at the call site stays monomorphic, while a keyed load shared by all
   * fields inside `count` goes megamorphic (about 10x slower). `key`, `parent` and `index` only
   * name the field, as for `count`.
   */
  read(value: unknown, key: string, parent?: string, index?: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    // `+ 0` turns -0 into 0.
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value + 0;
    return this.repairValue(fieldName(key, parent, index), value);
  }

  /**
   * Reads a nested object (e.g. `input_token_details`); returns `undefined` when absent.
   * Anything else that is not a plain object is recorded as a repair and treated as absent.
   */
  record(
    source: Record<string, unknown>,
    key: string,
    parent?: string,
  ): Record<string, unknown> | undefined {
    return this.object(source[key], key, parent);
  }

  /** `record()` for a value the caller has already loaded (see `read`). */
  object(value: unknown, key: string, parent?: string): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (isRecord(value)) return value;
    this.repair(fieldName(key, parent), value, 0, 'not an object; ignored');
    return undefined;
  }

  /**
   * Records a repair (or throws in strict mode) for a consistency problem between fields, or a
   * value replaced by another (a count, or a service tier name).
   */
  repair<T extends number | string>(field: string, received: unknown, used: T, reason: string): T {
    const path = this.path(field);
    if (this.strict) throw new InvalidUsageError(path, received, reason);
    const root = this.root;
    if (root.list === undefined) root.list = [];
    root.list.push({ field: path, received, used, reason });
    return used;
  }

  /** A reader for a nested object, sharing this reader's repair list. */
  nested(key: string): CountReader {
    return new CountReader(this.strict, this.path(key), this.root);
  }

  private path(field: string): string {
    return this.prefix ? `${this.prefix}.${field}` : field;
  }

  private repairValue(field: string, value: unknown): number | undefined {
    if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) {
      const parsed = Number(value);
      if (Number.isSafeInteger(parsed)) {
        return this.repair(field, value, parsed, 'numeric string parsed as a count');
      }
    }
    if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return this.repair(field, value, Number(value), 'bigint converted to a number');
    }
    if (typeof value === 'number' && Number.isFinite(value)) {
      if (value < 0) return this.repair(field, value, 0, 'negative count treated as 0');
      const rounded = Math.round(value);
      if (Number.isSafeInteger(rounded)) {
        return this.repair(field, value, rounded, 'fractional count rounded to an integer');
      }
    }
    this.repair(field, value, 0, 'not a usable token count; treated as absent');
    return undefined;
  }
}

/** `key`, `parent.key` or `parent[index].key`. */
function fieldName(key: string, parent?: string, index?: number): string {
  if (parent === undefined) return key;
  return index === undefined ? `${parent}.${key}` : `${parent}[${index}].${key}`;
}

/** True for a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
