/**
 * Roles of people signed into the console, and the one table of what each may call
 * (docs/security.md#roles). A route is open to the roles its key scope maps to in `ROLE_SCOPES`,
 * unless `ROUTE_ROLES` names its roles outright: the routes a viewer or an analyst may call, the
 * listings an auditor may read although they need an admin key, and the routes only keys may call
 * (ingest: people never write into a trail). A new route is therefore open to the roles of its
 * scope until it is listed here.
 */
import type { Scope } from '../auth/api-keys.ts';

export type Role = 'owner' | 'admin' | 'analyst' | 'auditor' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'admin', 'analyst', 'auditor', 'viewer'];

/** A role held by a user on one tenant, or on every tenant (`tenant` null). */
export interface RoleGrant {
  role: Role;
  tenant: string | null;
}

/** The key scopes whose routes a role may call, for routes `ROUTE_ROLES` does not list. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  owner: ['read', 'admin'],
  admin: ['read', 'admin'],
  auditor: ['read'],
  analyst: [],
  viewer: [],
};

const EVERYONE: readonly Role[] = ROLES;
const ANALYSTS: readonly Role[] = ['owner', 'admin', 'analyst', 'auditor'];
const MANAGERS: readonly Role[] = ['owner', 'admin'];
const READERS_OF_SETTINGS: readonly Role[] = ['owner', 'admin', 'auditor'];
const KEYS_ONLY: readonly Role[] = [];

/** Routes (`METHOD /path` as registered) whose roles are not those of their scope. */
export const ROUTE_ROLES: Readonly<Record<string, readonly Role[]>> = {
  // Searching and reading events: every role.
  'GET /v1/whoami': EVERYONE,
  'GET /v1/tenants': EVERYONE,
  'GET /v1/events': EVERYONE,
  'GET /v1/events/histogram': EVERYONE,
  'GET /v1/events/:uid': EVERYONE,
  'GET /v1/saved-searches': EVERYONE,
  'GET /v1/saved-searches/:id': EVERYONE,
  // Analysis: exports, aggregates, the feed, saved searches and alert history.
  'GET /v1/exports': ANALYSTS,
  'GET /v1/stats': ANALYSTS,
  'GET /v1/events/feed': ANALYSTS,
  'POST /v1/saved-searches': ['owner', 'admin', 'analyst'],
  'PATCH /v1/saved-searches/:id': ['owner', 'admin', 'analyst'],
  'DELETE /v1/saved-searches/:id': ['owner', 'admin', 'analyst'],
  'GET /v1/alert-rules': ANALYSTS,
  'GET /v1/alert-rules/:id': ANALYSTS,
  'GET /v1/alert-rules/:id/firings': ANALYSTS,
  'GET /v1/alert-firings': ANALYSTS,
  // Settings an auditor reads although listing them needs an admin key.
  'GET /v1/keys': READERS_OF_SETTINGS,
  'GET /v1/streams': READERS_OF_SETTINGS,
  'GET /v1/streams/:id': READERS_OF_SETTINGS,
  'GET /v1/streams/:id/status': READERS_OF_SETTINGS,
  'GET /v1/users': READERS_OF_SETTINGS,
  'GET /v1/users/:id': READERS_OF_SETTINGS,
  // Managing people: owners and admins (which roles each may grant: src/people/user-routes.ts).
  'POST /v1/users': MANAGERS,
  'PATCH /v1/users/:id': MANAGERS,
  'PUT /v1/users/:id/roles': MANAGERS,
  'DELETE /v1/users/:id/sessions': MANAGERS,
  // Machines only: ingest, the WorkOS-compatible API, metrics, the embedded viewer's own session.
  'POST /v1/events': KEYS_ONLY,
  'POST /v1/viewer/sessions': KEYS_ONLY,
  'GET /metrics': KEYS_ONLY,
  'POST /audit_logs/events': KEYS_ONLY,
  'POST /audit_logs/exports': KEYS_ONLY,
  'GET /audit_logs/exports/:id': KEYS_ONLY,
  'GET /audit_logs/actions/:action/schemas': KEYS_ONLY,
  'POST /audit_logs/actions/:action/schemas': KEYS_ONLY,
  'GET /organizations/:id/audit_logs_retention': KEYS_ONLY,
  'PUT /organizations/:id/audit_logs_retention': KEYS_ONLY,
};

/** `METHOD /path` of a route as registered (HEAD is GET's). */
export function routeKey(method: string, url: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${url}`;
}

/** The roles that may call the route `key`, whose key scope is `scope`. */
export function rolesFor(key: string, scope: Scope): readonly Role[] {
  return ROUTE_ROLES[key] ?? ROLES.filter((role) => ROLE_SCOPES[role].includes(scope));
}

/**
 * The tenants on which `grants` allow the route: `'all'` when a global grant allows it, else the
 * tenants of the per-tenant grants that do (empty: not allowed at all).
 */
export function tenantsAllowed(grants: readonly RoleGrant[], key: string, scope: Scope): 'all' | string[] {
  const roles = rolesFor(key, scope);
  const tenants = new Set<string>();
  for (const grant of grants) {
    if (!roles.includes(grant.role)) continue;
    if (grant.tenant === null) return 'all';
    tenants.add(grant.tenant);
  }
  return [...tenants].sort();
}

/** Roles ranked by what they may grant: an owner grants any role, an admin the three below it. */
export function mayGrant(granter: Role, role: Role): boolean {
  if (granter === 'owner') return true;
  return granter === 'admin' && role !== 'owner' && role !== 'admin';
}

/** The key scope a session shows as (whoami, the console): admin for owners and admins, else read. */
export function displayScope(grants: readonly RoleGrant[]): Scope {
  return grants.some((g) => g.role === 'owner' || g.role === 'admin') ? 'admin' : 'read';
}
