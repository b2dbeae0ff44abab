/**
 * True for a `postgres://` or `postgresql://` URL: how `TOLLGATE_DB` (and `--db`) select the
 * Postgres ledger instead of a SQLite file. Free of the driver, so the CLI can ask cheaply.
 *
 * @example
 * isPostgresUrl('postgres://tollgate@db:5432/ledger'); // true
 * isPostgresUrl('outputs/tollgate.db'); // false
 */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL with its password masked, for messages and logs. */
export function maskedUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');
}
