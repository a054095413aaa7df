/**
 * A request made with a session cookie, as a principal: the person, and what their roles allow on
 * the route being called (roles.ts). A role granted on every tenant acts like a key bound to no
 * tenant; roles on one tenant like a key bound to it; roles on several tenants like a key bound to
 * whichever of them the request names (`resolveTenant`).
 */
import type { FastifyRequest } from 'fastify';
import { UNRESOLVED_TENANT, tenantForbidden } from '../auth/access.ts';
import type { Principal, Scope } from '../auth/api-keys.ts';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { displayScope, routeKey, tenantsAllowed, type RoleGrant } from './roles.ts';
import { checkCsrf } from './session-cookies.ts';
import { lookupSession, type SessionTimeouts } from './sessions.ts';

/** The person behind a session principal. */
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  sessionId: string;
  grants: readonly RoleGrant[];
}

export async function sessionPrincipal(sql: Sql, timeouts: SessionTimeouts, request: FastifyRequest, scope: Scope, token: string): Promise<Principal> {
  const session = await lookupSession(sql, token, timeouts);
  if (!session) throw new TrailproofError('AUTH_REQUIRED', 'the session has ended or expired: sign in again');
  checkCsrf(request, session.csrfToken);
  const route = routeKey(request.method, request.routeOptions.url ?? '');
  const allowed = tenantsAllowed(session.grants, route, scope);
  if (allowed !== 'all' && allowed.length === 0) throw new TrailproofError('AUTH_FORBIDDEN', `your roles do not allow ${route}`);
  const user: SessionUser = { id: session.userId, email: session.email, name: session.name, sessionId: session.id, grants: session.grants };
  const base = { keyId: `user:${session.userId}`, name: session.email, scope: displayScope(session.grants), user };
  if (allowed === 'all') return { ...base, tenant: null };
  if (allowed.length === 1) return { ...base, tenant: allowed[0]! };
  // Several tenants: the path or query may name one now; a body names it when the handler resolves it.
  const named = namedTenant(request);
  if (named === undefined) return { ...base, tenant: UNRESOLVED_TENANT, tenants: allowed };
  if (!allowed.includes(named.tenant)) throw tenantForbidden(named.pointer, 'your roles do not allow this on that tenant');
  return { ...base, tenant: named.tenant, tenants: allowed };
}

function namedTenant(request: FastifyRequest): { tenant: string; pointer: string } | undefined {
  const params = request.params as { tenant?: unknown } | undefined;
  if (typeof params?.tenant === 'string') return { tenant: params.tenant, pointer: '/tenant' };
  const query = request.query as { tenant?: unknown } | undefined;
  if (typeof query?.tenant === 'string' && query.tenant !== '') return { tenant: query.tenant, pointer: '/tenant' };
  return undefined;
}
