/**
 * The query cursor of the SQL drivers (SQLite, Postgres): a position, not an offset, so records
 * appended while paging never shift a page.
 */
import { ConfigurationError, describe } from '../errors.js';
import type { LedgerRecord, QueryPage } from './types.js';

/**
 * A query cursor: the order and the (timestamp, seq) of the last record returned, base64url.
 * A position, not an offset, so records appended while paging never shift a page.
 */
export function encodeCursor(order: 'asc' | 'desc', ts: number, seq: number): string {
  return Buffer.from(`${order}:${ts}:${seq}`).toString('base64url');
}

/**
 * The position in a cursor. Each number must read back exactly as `encodeCursor` wrote it: a
 * lenient `Number()` took an empty or blank field for 0, so a damaged cursor silently restarted
 * the listing from the first record.
 */
export function decodeCursor(cursor: string, order: 'asc' | 'desc'): { ts: number; seq: number } {
  const parts =
    typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString().split(':') : [];
  const [tag, ts, seq] = parts;
  const position = { ts: Number(ts), seq: Number(seq) };
  if (
    parts.length !== 3 ||
    tag !== order ||
    !Number.isFinite(position.ts) ||
    String(position.ts) !== ts ||
    !Number.isSafeInteger(position.seq) ||
    String(position.seq) !== seq
  ) {
    throw new ConfigurationError(
      `${describe(cursor)} is not a cursor of this ledger for order "${order}"`,
    );
  }
  return position;
}

/**
 * A page of a SQL query asked for `limit + 1` rows: the first `limit` as records, and a cursor
 * after the last of them when the extra row shows that more follow.
 *
 * @example
 * const rows = statement.all(...params, limit + 1);
 * return pageOf(rows, limit, 'desc', fromRow);
 */
export function pageOf<Row extends { ts: bigint | number | string; seq: bigint | number | string }>(
  rows: Row[],
  limit: number,
  order: 'asc' | 'desc',
  toRecord: (row: Row) => LedgerRecord,
): QueryPage {
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows[rows.length - 1];
  return {
    records: rows.map(toRecord),
    ...(more && last ? { nextCursor: encodeCursor(order, Number(last.ts), Number(last.seq)) } : {}),
  };
}
