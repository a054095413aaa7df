/**
 * Who may manage whom (docs/security.md#users-and-roles). An admin key bound to no tenant manages
 * everyone; one bound to a tenant grants any role on that tenant. A person grants a role on a
 * tenant when they hold, on that tenant or on every tenant, a role that may grant it (`mayGrant`:
 * owners any role, admins analyst, auditor and viewer). Changing a user (disabling, renaming,
 * ending their sessions) needs the right to grant every role the user holds, so nobody acts on
 * someone above them.
 */
import type { Principal } from '../auth/api-keys.ts';
import { mayGrant, type RoleGrant } from './roles.ts';
import type { User } from './users.ts';

export function mayGrantOn(principal: Principal, grant: RoleGrant): boolean {
  if (!principal.user) return principal.tenant === null || (grant.tenant !== null && grant.tenant === principal.tenant);
  return principal.user.grants.some((held) => (held.tenant === null || held.tenant === grant.tenant) && mayGrant(held.role, grant.role));
}

export function mayManage(principal: Principal, user: User): boolean {
  // A user with no role is managed only by those who manage everyone.
  if (user.roles.length === 0) return mayGrantOn(principal, { role: 'viewer', tenant: null });
  return user.roles.every((grant) => mayGrantOn(principal, grant));
}

/** The tenants whose users the principal sees: all, or those named (per-tenant roles). */
export function visibleTenants(principal: Principal): 'all' | readonly string[] {
  if (principal.tenant === null) return 'all';
  return principal.tenants ?? [principal.tenant];
}

export function mayView(principal: Principal, user: User): boolean {
  const tenants = visibleTenants(principal);
  return tenants === 'all' || user.roles.some((g) => g.tenant !== null && tenants.includes(g.tenant));
}
