/**
 * Users: the people who sign into the console, each with roles granted globally or per tenant.
 * Email addresses are kept lower case and are unique; an OIDC identity (issuer, subject) is linked
 * to a user at its first sign-in. A disabled user keeps their row (the trail names them) but can
 * hold no session: disabling ends every session in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Sql, TxSql } from '../store/db.ts';
import type { Fragment } from '../query/event-repository.ts';
import type { Role, RoleGrant } from './roles.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  disabled: boolean;
  roles: (RoleGrant & { source: GrantSource })[];
  created_at: string;
  last_sign_in_at: string | null;
}

export type GrantSource = 'manual' | 'oidc';

export async function createUser(
  sql: Sql,
  input: { email: string; name?: string | null; roles: readonly RoleGrant[]; grantedBy: string },
): Promise<User | undefined> {
  const id = `usr_${randomUUID().replaceAll('-', '')}`;
  return sql.begin(async (tx) => {
    const rows = await tx`
      insert into users (id, email, name) values (${id}, ${input.email.toLowerCase()}, ${input.name ?? null})
      on conflict (email) do nothing returning id`;
    if (rows.length === 0) return undefined;
    await insertGrants(tx, id, input.roles, 'manual', input.grantedBy);
    return (await getUser(tx, id))!;
  });
}

export async function getUser(sql: Sql | TxSql, id: string): Promise<User | undefined> {
  const rows = await selectUsers(sql, sql`where u.id = ${id}`);
  return rows[0];
}

export async function findUserByEmail(sql: Sql, email: string): Promise<User | undefined> {
  const rows = await selectUsers(sql, sql`where u.email = ${email.toLowerCase()}`);
  return rows[0];
}

/** Every user, or only those holding a role on one of `tenants` (per-tenant grants). */
export async function listUsers(sql: Sql, options: { tenants?: readonly string[] } = {}): Promise<User[]> {
  return options.tenants
    ? selectUsers(sql, sql`where exists (select 1 from user_roles r where r.user_id = u.id and r.tenant_id = any(${options.tenants as string[]}))`)
    : selectUsers(sql, sql``);
}

/**
 * Changes a user's name or disabled state; disabling ends all their sessions in the same
 * transaction. Returns the user after the change, undefined when there is no such user.
 */
export async function updateUser(sql: Sql, id: string, change: { name?: string | null; disabled?: boolean }): Promise<User | undefined> {
  return sql.begin(async (tx) => {
    const rows = await tx`
      update users set
        name = ${change.name === undefined ? tx`name` : change.name},
        disabled_at = ${change.disabled === undefined ? tx`disabled_at` : change.disabled ? tx`coalesce(disabled_at, now())` : null},
        updated_at = now()
      where id = ${id} returning id`;
    if (rows.length === 0) return undefined;
    if (change.disabled) await tx`update user_sessions set ended_at = now(), ended_reason = 'user disabled' where user_id = ${id} and ended_at is null`;
    return getUser(tx, id);
  });
}

/**
 * Replaces the user's grants from `source` within `scope` (the tenants the caller manages, or
 * `'all'`) by `roles`; grants outside the scope are kept.
 */
export async function replaceGrants(
  sql: Sql,
  id: string,
  roles: readonly RoleGrant[],
  options: { source: GrantSource; grantedBy: string; scope: 'all' | readonly string[] },
): Promise<void> {
  await sql.begin(async (tx) => {
    await (options.scope === 'all'
      ? tx`delete from user_roles where user_id = ${id} and source = ${options.source}`
      : tx`delete from user_roles where user_id = ${id} and source = ${options.source} and tenant_id = any(${options.scope as string[]})`);
    await insertGrants(tx, id, roles, options.source, options.grantedBy);
  });
}

/** Whether the user exists and is not disabled. */
export async function isUserActive(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`select 1 from users where id = ${id} and disabled_at is null`;
  return rows.length > 0;
}

export async function countUsers(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from users`;
  return row!.n;
}

async function insertGrants(sql: Sql | TxSql, id: string, roles: readonly RoleGrant[], source: GrantSource, grantedBy: string): Promise<void> {
  if (roles.length === 0) return;
  const rows = roles.map((g) => ({ user_id: id, role: g.role, tenant_id: g.tenant, source, granted_by: grantedBy }));
  await sql`insert into user_roles ${sql(rows, 'user_id', 'role', 'tenant_id', 'source', 'granted_by')} on conflict do nothing`;
}

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  disabled_at: Date | null;
  created_at: Date;
  last_sign_in_at: Date | null;
  roles: { role: Role; tenant: string | null; source: GrantSource }[];
}

async function selectUsers(sql: Sql | TxSql, where: Fragment): Promise<User[]> {
  const rows = await sql<UserRow[]>`
    select u.id, u.email, u.name, u.disabled_at, u.created_at, u.last_sign_in_at,
      coalesce((select json_agg(json_build_object('role', r.role, 'tenant', r.tenant_id, 'source', r.source)
                 order by r.tenant_id nulls first, r.role, r.source)
               from user_roles r where r.user_id = u.id), '[]') as roles
    from users u ${where} order by u.email`;
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    disabled: r.disabled_at !== null,
    roles: r.roles,
    created_at: r.created_at.toISOString(),
    last_sign_in_at: r.last_sign_in_at ? r.last_sign_in_at.toISOString() : null,
  }));
}
