/**
 * API keys. A key is `tpk_<id>_<secret>`: the id finds the row, the secret is checked against its
 * SHA-256 with a constant-time comparison. Secrets are 256 random bits, so a fast hash is enough (no
 * password stretching needed); only the hash is stored, and the full key is shown once, at creation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import type { ViewerGrant } from './viewer-tokens.ts';
import type { SessionUser } from '../people/session-principal.ts';

export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

export interface ApiKey {
  id: string;
  name: string;
  scope: Scope;
  /** The one tenant the key is bound to, or null for an operator key that names the tenant per request. */
  tenant: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface Principal {
  keyId: string;
  name: string;
  scope: Scope;
  tenant: string | null;
  /** Set for a viewer token (`tpv_…`): read-only, one tenant, maybe narrowed (src/auth/viewer-tokens.ts). */
  viewer?: ViewerGrant;
  /** Set for a person signed into the console with a session (src/people/session-principal.ts). */
  user?: SessionUser;
  /**
   * Set for a person whose roles allow the route on several tenants but not all: those tenants.
   * Until the request names one of them, `tenant` is UNRESOLVED_TENANT, which no tenant matches.
   */
  tenants?: readonly string[];
}

const KEY_PATTERN = /^tpk_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export async function createApiKey(
  sql: Sql,
  input: { name: string; scope: Scope; tenant?: string | null; secret?: string },
): Promise<{ key: ApiKey; secret: string }> {
  const secret = input.secret ?? `tpk_${randomId()}_${randomBytes(32).toString('base64url')}`;
  const { id, hash } = keyIdentity(secret);
  const rows = await sql<KeyRow[]>`
    insert into api_keys (id, secret_hash, name, scope, tenant_id)
    values (${id}, ${hash}, ${input.name}, ${input.scope}, ${input.tenant ?? null})
    returning id, name, scope, tenant_id, created_at, revoked_at`;
  return { key: toKey(rows[0]!), secret };
}

export async function listApiKeys(sql: Sql, options: { tenant?: string } = {}): Promise<ApiKey[]> {
  const rows = options.tenant
    ? await sql<KeyRow[]>`select id, name, scope, tenant_id, created_at, revoked_at from api_keys where tenant_id = ${options.tenant} order by created_at, id`
    : await sql<KeyRow[]>`select id, name, scope, tenant_id, created_at, revoked_at from api_keys order by created_at, id`;
  return rows.map(toKey);
}

export async function getApiKey(sql: Sql, id: string): Promise<ApiKey | undefined> {
  const rows = await sql<KeyRow[]>`select id, name, scope, tenant_id, created_at, revoked_at from api_keys where id = ${id}`;
  return rows[0] ? toKey(rows[0]) : undefined;
}

/** Revokes a key; returns false when no live key has that id. */
export async function revokeApiKey(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

/** Whether a key with this id exists and is not revoked. */
export async function isKeyLive(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`select 1 from api_keys where id = ${id} and revoked_at is null`;
  return rows.length > 0;
}

export async function hasAdminKey(sql: Sql): Promise<boolean> {
  const rows = await sql`select 1 from api_keys where scope = 'admin' and tenant_id is null and revoked_at is null limit 1`;
  return rows.length > 0;
}

/** Looks the presented key up and checks it; undefined for unknown, revoked or wrong secrets. */
export async function verifyApiKey(sql: Sql, presented: string): Promise<Principal | undefined> {
  const { id, hash } = keyIdentity(presented);
  const rows = await sql<(KeyRow & { secret_hash: Buffer })[]>`
    select id, name, scope, tenant_id, created_at, revoked_at, secret_hash from api_keys where id = ${id}`;
  const row = rows[0];
  if (!row || row.revoked_at !== null) return undefined;
  if (!timingSafeEqual(row.secret_hash, hash)) return undefined;
  return { keyId: row.id, name: row.name, scope: row.scope, tenant: row.tenant_id };
}

/**
 * The id and hash of a presented key. Keys in Trailproof's format carry their id; any other string
 * (an operator-chosen `TRAILPROOF_ADMIN_KEY`) gets an id derived from its hash, so lookup is uniform.
 */
export function keyIdentity(presented: string): { id: string; hash: Buffer } {
  const match = KEY_PATTERN.exec(presented);
  const hash = createHash('sha256').update(presented).digest();
  return { id: match ? match[1]! : `ext${hash.subarray(0, 9).toString('base64url')}`, hash };
}

function randomId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(16), (b) => alphabet[b % 62]).join('');
}

interface KeyRow {
  id: string;
  name: string;
  scope: Scope;
  tenant_id: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    tenant: row.tenant_id,
    created_at: row.created_at.toISOString(),
    revoked_at: row.revoked_at ? row.revoked_at.toISOString() : null,
  };
}

export function assertScope(value: string): Scope {
  if (!(SCOPES as readonly string[]).includes(value)) {
    throw new TrailproofError('REQUEST_INVALID', `scope must be one of ${SCOPES.join(', ')}`, {
      details: [{ pointer: '/scope', code: 'invalid_enum', message: `must be one of ${SCOPES.join(', ')}` }],
    });
  }
  return value as Scope;
}
