/**
 * Console sessions. A session is a random 256-bit token held by the browser in an `HttpOnly`
 * cookie (session-cookies.ts); the database keeps only its SHA-256, so a copy of the table signs
 * nobody in. A session ends at its absolute timeout, after its idle timeout without a request, at
 * sign-out, at sign-out everywhere, or when its user is disabled. Every request looks its session up
 * (no cache): an ended session or a disabled user is refused by every process at once.
 *
 * Its CSRF token is a hash of the session token under another label: it needs no storage, cannot
 * be computed without the cookie, and changes with every session.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../store/db.ts';
import type { RoleGrant } from './roles.ts';

/** Default idle timeout (TRAILPROOF_SESSION_IDLE_SECONDS). */
export const DEFAULT_SESSION_IDLE_SECONDS = 30 * 60;
/** Default absolute timeout (TRAILPROOF_SESSION_MAX_SECONDS). */
export const DEFAULT_SESSION_MAX_SECONDS = 12 * 60 * 60;
/** How long a one-time sign-in link stays valid. */
export const SIGN_IN_LINK_TTL_SECONDS = 15 * 60;

export interface SessionTimeouts {
  idleSeconds: number;
  maxSeconds: number;
}

/** A live session and its user, as a request sees it. */
export interface Session {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  grants: RoleGrant[];
  csrfToken: string;
}

export async function createSession(
  sql: Sql,
  userId: string,
  timeouts: SessionTimeouts,
  context: { ip?: string; userAgent?: string } = {},
): Promise<{ id: string; token: string }> {
  const token = randomBytes(32).toString('base64url');
  const id = `ses_${randomBytes(12).toString('base64url')}`;
  await sql.begin(async (tx) => {
    await tx`
      insert into user_sessions (id, token_hash, user_id, expires_at, ip, user_agent)
      values (${id}, ${hashToken(token)}, ${userId}, now() + make_interval(secs => ${timeouts.maxSeconds}),
              ${context.ip ?? null}, ${context.userAgent?.slice(0, 1024) ?? null})`;
    await tx`update users set last_sign_in_at = now() where id = ${userId}`;
  });
  return { id, token };
}

/**
 * The live session of `token`, or undefined: unknown, ended, past its absolute or idle timeout, or
 * its user disabled. Moves its idle timeout on (at most once per `touchSeconds`, to spare writes).
 */
export async function lookupSession(sql: Sql, token: string, timeouts: SessionTimeouts): Promise<Session | undefined> {
  const rows = await sql<{ id: string; user_id: string; email: string; name: string | null; grants: RoleGrant[]; stale: boolean }[]>`
    select s.id, s.user_id, u.email, u.name,
      coalesce((select json_agg(distinct jsonb_build_object('role', r.role, 'tenant', r.tenant_id)) from user_roles r where r.user_id = u.id), '[]') as grants,
      s.last_seen_at < now() - make_interval(secs => ${touchSeconds(timeouts)}) as stale
    from user_sessions s join users u on u.id = s.user_id
    where s.token_hash = ${hashToken(token)} and s.ended_at is null and u.disabled_at is null
      and s.expires_at > now() and s.last_seen_at > now() - make_interval(secs => ${timeouts.idleSeconds})`;
  const row = rows[0];
  if (!row) return undefined;
  if (row.stale) await sql`update user_sessions set last_seen_at = now() where id = ${row.id}`;
  return { id: row.id, userId: row.user_id, email: row.email, name: row.name, grants: row.grants, csrfToken: csrfTokenOf(token) };
}

/** Ends one session; false when it was not live. */
export async function endSession(sql: Sql, id: string, reason: string): Promise<boolean> {
  const rows = await sql`update user_sessions set ended_at = now(), ended_reason = ${reason} where id = ${id} and ended_at is null returning id`;
  return rows.length > 0;
}

/** Ends every live session of a user; returns how many. */
export async function endUserSessions(sql: Sql, userId: string, reason: string): Promise<number> {
  const rows = await sql`update user_sessions set ended_at = now(), ended_reason = ${reason} where user_id = ${userId} and ended_at is null returning id`;
  return rows.length;
}

/** A one-time sign-in link's token for the user, valid for SIGN_IN_LINK_TTL_SECONDS. */
export async function createSignInLink(sql: Sql, userId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await sql`insert into sign_in_links (token_hash, user_id, expires_at)
            values (${hashToken(token)}, ${userId}, now() + make_interval(secs => ${SIGN_IN_LINK_TTL_SECONDS}))`;
  return token;
}

/** Uses a sign-in link: the user it signs in, once, before it expires, if that user is active. */
export async function redeemSignInLink(sql: Sql, token: string): Promise<string | undefined> {
  const rows = await sql<{ user_id: string }[]>`
    update sign_in_links l set used_at = now()
    from users u
    where l.token_hash = ${hashToken(token)} and l.used_at is null and l.expires_at > now()
      and u.id = l.user_id and u.disabled_at is null
    returning l.user_id`;
  return rows[0]?.user_id;
}

/** The CSRF token of the session whose token is `token`. */
export function csrfTokenOf(token: string): string {
  return createHash('sha256').update(`trailproof csrf\0${token}`).digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the expected one. */
export function csrfTokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** How stale `last_seen_at` may get before a request writes it: a tenth of the idle timeout, at most a minute. */
function touchSeconds(timeouts: SessionTimeouts): number {
  return Math.min(60, timeouts.idleSeconds / 10);
}
