/**
 * `COPY … FROM STDIN` through pg-copy-streams (an optional peer beside `pg`): the batch goes to
 * the server as COPY's text format, which Postgres parses far faster than it reads the same rows
 * out of one `jsonb` parameter. Without the package the store appends by that parameter instead.
 */
import { createRequire } from 'node:module';
import type * as CopyStreams from 'pg-copy-streams';
import { isModuleNotFound, peerLoadError } from '../errors.js';
import type { PoolClient } from './connect.js';

export type CopyModule = typeof CopyStreams;

/**
 * Loads pg-copy-streams. `wanted`: `true` requires it (a `MissingPeerError` names the package),
 * `false` skips it, `undefined` uses it when it is installed (a package that is there but fails
 * to load is a `ConfigurationError`, not a silent fallback).
 */
export function loadCopyStreams(wanted: boolean | undefined): CopyModule | undefined {
  if (wanted === false) return undefined;
  try {
    return createRequire(import.meta.url)('pg-copy-streams') as CopyModule;
  } catch (error) {
    if (wanted === undefined && isModuleNotFound(error)) return undefined;
    throw peerLoadError('tollgate/postgres', 'pg-copy-streams', error);
  }
}

/** Sends `text` (COPY text format) by `COPY <target> FROM STDIN`; resolves once the server took it. */
export function copyIn(
  copy: CopyModule,
  client: PoolClient,
  target: string,
  text: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copy.from(`COPY ${target} FROM STDIN`));
    stream.once('finish', resolve);
    stream.once('error', reject);
    stream.end(text);
  });
}
