import { ConfigurationError } from '../errors.js';
import type { RecordFilter } from '../keep/types.js';

/** Equality filters and the columns they test. */
const COLUMNS = {
  userId: 'user_id',
  tenantId: 'tenant_id',
  threadId: 'thread_id',
  agent: 'agent',
  model: 'model',
  sessionId: 'session_id',
} as const satisfies Record<Exclude<keyof RecordFilter, 'from' | 'to'>, string>;

const FILTER_KEYS = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];

/** A WHERE clause (empty or starting with `WHERE`) and its parameters, in order. */
export interface Where {
  sql: string;
  params: (string | number)[];
}

/**
 * The WHERE clause of a filter. The SQL text depends only on which filters are set, so callers
 * cache one prepared statement per shape.
 */
export function whereOf(filter: RecordFilter, extra: string[] = []): Where {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  for (const key of FILTER_KEYS) {
    const value = filter[key];
    if (value === undefined) continue;
    clauses.push(`${COLUMNS[key]} = ?`);
    params.push(value);
  }
  if (filter.from !== undefined) {
    clauses.push('ts >= ?');
    params.push(finiteTime(filter.from, 'from'));
  }
  if (filter.to !== undefined) {
    clauses.push('ts < ?');
    params.push(finiteTime(filter.to, 'to'));
  }
  clauses.push(...extra);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function finiteTime(value: number, name: string): number {
  if (!Number.isFinite(value)) {
    throw new ConfigurationError(`${name} must be epoch milliseconds, got ${String(value)}`);
  }
  return value;
}
