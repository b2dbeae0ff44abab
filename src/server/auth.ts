/**
 * Who is asking: API keys (stored as SHA-256 hashes, compared in constant time) or bearer JWTs
 * (jose, loaded on first use). A credential carries a role and, optionally, the one tenant whose
 * data it may see.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CryptoKey, KeyObject } from 'jose';
import { ConfigurationError, describe, peerLoadError, requirePeer } from '../errors.js';
import { forbidden, HttpError } from './errors.js';

export type Role = 'viewer' | 'admin';

/** A stored API key: never the key itself, only its hash. */
export interface ApiKeyRecord {
  id: string;
  /** `hashApiKey(key)`: `sha256:` and 64 hex digits (bare hex is accepted too). */
  hash: string;
  role: Role;
  /** When set, the key sees this tenant's data only. */
  tenantId?: string | undefined;
}

/** Keys kept elsewhere (a database): looked up by hash. */
export interface ApiKeyStore {
  /** The record of a key by its hash (`sha256:<hex>`), or undefined. */
  findByHash(hash: string): ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>;
}

export interface JwtOptions {
  /** HMAC secret (HS256). */
  secret?: string | Uint8Array;
  /** RSA or EC public key (RS256 by default): a PEM SPKI string or a key object. */
  publicKey?: string | CryptoKey | KeyObject;
  /** Accepted algorithms (default `['HS256']` with a secret, `['RS256']` with a public key). */
  algorithms?: string[];
  issuer?: string | string[];
  audience?: string | string[];
}

export interface AuthOptions {
  apiKeys?: ApiKeyRecord[] | ApiKeyStore;
  /** Bearer JWTs with a `role` claim (`viewer` | `admin`) and an optional `tenant` claim. */
  jwt?: JwtOptions;
}

/** The authenticated caller. */
export interface Credential {
  /** The key id, or the token's `sub`. */
  subject: string;
  role: Role;
  tenantId: string | undefined;
  via: 'api-key' | 'jwt';
}

const HEX64 = /^[0-9a-f]{64}$/;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * The hash stored for an API key.
 *
 * @example
 * hashApiKey('tg_abc'); // 'sha256:…64 hex digits'
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * A new random API key and the record to store. Show `key` to its owner once; keep `record`.
 *
 * @example
 * const { key, record } = createApiKey('viewer', 'acme');
 * const handler = createHandler({ store, auth: { apiKeys: [record] } });
 * // curl -H "authorization: Bearer $key" …/api/usage/summary
 */
export function createApiKey(role: Role, tenantId?: string): { key: string; record: ApiKeyRecord } {
  if (role !== 'viewer' && role !== 'admin') {
    throw new ConfigurationError(`role must be "viewer" or "admin", got ${describe(role)}`);
  }
  const key = `tg_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id: `key_${randomBytes(6).toString('hex')}`,
    hash: hashApiKey(key),
    role,
    ...(tenantId === undefined ? {} : { tenantId }),
  };
  return { key, record };
}

type Verify = (token: string) => Promise<Credential>;

/**
 * Validates auth options once and returns the function that turns a request into a credential
 * (or a 401). `now` is the clock for JWT expiry.
 */
export function createAuthenticator(
  options: AuthOptions,
  now: () => number,
): (request: Request) => Promise<Credential> {
  if (typeof options !== 'object' || options === null || (!options.apiKeys && !options.jwt)) {
    throw new ConfigurationError('auth: give apiKeys, jwt, or both');
  }
  const findKey = options.apiKeys ? keyFinder(options.apiKeys) : undefined;
  const verifyJwt = options.jwt ? jwtVerifier(options.jwt, now) : undefined;
  return async (request) => {
    const header = request.headers.get('authorization');
    let token = request.headers.get('x-api-key') ?? undefined;
    if (header !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match?.[1]) throw unauthorized('authorization: expected "Bearer <key or token>"');
      token = match[1];
    }
    if (token === undefined || token === '') throw unauthorized('credentials required');
    if (verifyJwt && JWT_SHAPE.test(token)) return verifyJwt(token);
    if (!findKey) throw unauthorized('invalid credentials');
    const record = await findKey(token);
    if (!record) throw unauthorized('invalid credentials');
    return { subject: record.id, role: record.role, tenantId: record.tenantId, via: 'api-key' };
  };
}

/**
 * The tenant a request may see: a tenant-scoped credential's own tenant, always (asking for
 * another is a 403); otherwise the `tenant` the caller asked for, or every tenant.
 */
export function tenantOf(credential: Credential, requested?: string): string | undefined {
  if (credential.tenantId === undefined) return requested;
  if (requested !== undefined && requested !== credential.tenantId) {
    throw forbidden('tenant: this credential is scoped to another tenant');
  }
  return credential.tenantId;
}

/** 403 unless the credential is an admin. */
export function requireAdmin(credential: Credential): void {
  if (credential.role !== 'admin') throw forbidden('this needs an admin credential');
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

function keyFinder(
  keys: ApiKeyRecord[] | ApiKeyStore,
): (key: string) => Promise<ApiKeyRecord | undefined> {
  const byHash = new Map<string, ApiKeyRecord>();
  if (Array.isArray(keys)) {
    for (const [i, record] of keys.entries()) {
      const hex = hexOf(record?.hash);
      if (!record || typeof record.id !== 'string' || hex === undefined) {
        throw new ConfigurationError(
          `auth.apiKeys[${i}]: needs an id and a hash from hashApiKey(), got ${describe(record)}`,
        );
      }
      if (record.role !== 'viewer' && record.role !== 'admin') {
        throw new ConfigurationError(
          `auth.apiKeys[${i}].role: must be "viewer" or "admin", got ${describe(record.role)}`,
        );
      }
      byHash.set(hex, record);
    }
  } else if (typeof keys?.findByHash !== 'function') {
    throw new ConfigurationError('auth.apiKeys: give an array of records or { findByHash(hash) }');
  }
  return async (key) => {
    const digest = createHash('sha256').update(key).digest();
    const hex = digest.toString('hex');
    const record = Array.isArray(keys) ? byHash.get(hex) : await keys.findByHash(`sha256:${hex}`);
    const stored = hexOf(record?.hash);
    // The lookup is by hash of a random key; the final word is a constant-time comparison.
    if (!record || stored === undefined) return undefined;
    return timingSafeEqual(Buffer.from(stored, 'hex'), digest) ? record : undefined;
  };
}

function hexOf(hash: unknown): string | undefined {
  if (typeof hash !== 'string') return undefined;
  const hex = (hash.startsWith('sha256:') ? hash.slice(7) : hash).toLowerCase();
  return HEX64.test(hex) ? hex : undefined;
}

function jwtVerifier(options: JwtOptions, now: () => number): Verify {
  const { secret, publicKey } = options;
  if ((secret === undefined) === (publicKey === undefined)) {
    throw new ConfigurationError('auth.jwt: give exactly one of secret or publicKey');
  }
  if (typeof secret === 'string' && secret.length < 16) {
    throw new ConfigurationError('auth.jwt.secret: use at least 16 characters');
  }
  requirePeer('auth.jwt (tollgate/server)', 'jose');
  const algorithms = options.algorithms ?? (secret !== undefined ? ['HS256'] : ['RS256']);
  let key: Promise<Uint8Array | CryptoKey | KeyObject> | undefined;
  const jose = () =>
    import('jose').catch((cause: unknown) => {
      throw peerLoadError('auth.jwt (tollgate/server)', 'jose', cause);
    });
  const keyOf = () => {
    key ??= (async () => {
      if (secret !== undefined) {
        return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
      }
      if (typeof publicKey === 'string') {
        return (await jose()).importSPKI(publicKey, algorithms[0] ?? 'RS256');
      }
      return publicKey as CryptoKey | KeyObject;
    })();
    return key;
  };
  return async (token) => {
    const { jwtVerify, errors } = await jose();
    // Outside the try: a key that does not import is the server's fault (500), not the token's.
    const verificationKey = await keyOf();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, verificationKey, {
        algorithms,
        currentDate: new Date(now()),
        ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
        ...(options.audience === undefined ? {} : { audience: options.audience }),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('token expired');
      throw unauthorized('invalid token');
    }
    const { role, tenant, sub } = payload;
    if (role !== 'viewer' && role !== 'admin') {
      throw unauthorized('token: the role claim must be "viewer" or "admin"');
    }
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) {
      throw unauthorized('token: the tenant claim must be a non-empty string');
    }
    return {
      subject: typeof sub === 'string' ? sub : 'jwt',
      role,
      tenantId: tenant,
      via: 'jwt',
    };
  };
}
