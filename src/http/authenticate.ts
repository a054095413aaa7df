/**
 * Authentication for every `/v1` route: `Authorization: Bearer <key>`, verified (cached), rate
 * limited per key, and the scope checked; or, without that header, a console session cookie, whose
 * roles are checked against the route instead of a scope (src/people/roles.ts). Routes run it as their `onRequest` hook, from the headers
 * alone, so no byte of a refused request's body is read (request-limits.ts). Routes then resolve
 * their tenant with `tenantFor`.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal, Scope } from '../auth/api-keys.ts';
import { requireScope, resolveTenant } from '../auth/access.ts';
import { TrailproofError } from '../errors.ts';
import type { RequestContext } from '../audit/meta-audit.ts';
import type { Services } from './services.ts';
import { VIEWER_TOKEN_PREFIX } from '../auth/viewer-tokens.ts';
import { assertViewerMaySee } from '../query/viewer-narrowing.ts';
import { readCookie, SESSION_COOKIE } from '../people/session-cookies.ts';
import { sessionPrincipal } from '../people/session-principal.ts';
import { isUserActive } from '../people/users.ts';

/**
 * The routes a viewer token may call: reading events (narrowed by the token in each handler or by
 * `viewerMaySee`), their proofs, and its own session. Not tiles, checkpoints or status (they span
 * the whole tenant), never anything that writes.
 */
const VIEWER_ROUTES = new Set(['/v1/events', '/v1/events/histogram', '/v1/events/:uid', '/v1/events/:uid/proof', '/v1/viewer/sessions', '/v1/exports']);
/** The routes a viewer token minted with `alerts: true` may call besides. */
const VIEWER_ALERT_ROUTES = new Set(['/v1/alert-firings']);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Marks a hook made by `authenticate` with the scope it requires (routeScope reads it). */
const SCOPE = Symbol('trailproof.scope');

export function authenticate(services: Services, scope: Scope) {
  return Object.assign(authenticateRequest, { [SCOPE]: scope });
  async function authenticateRequest(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    const session = header === undefined ? readCookie(request, SESSION_COOKIE) : undefined;
    if (session !== undefined) {
      request.principal = await sessionPrincipal(services.sql, services.config.sessions, request, scope, session);
      const wait = services.limiter.take(request.principal.keyId);
      if (wait > 0) throw new TrailproofError('RATE_LIMITED', `rate limit exceeded; retry in ${wait}s`);
      return;
    }
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new TrailproofError('AUTH_REQUIRED', 'send an API key as `Authorization: Bearer <key>`, or sign into the console');
    const presented = match[1]!;
    const principal = presented.startsWith(VIEWER_TOKEN_PREFIX)
      ? await viewerPrincipal(services, request, scope, presented)
      : await services.keys.verify(presented);
    if (!principal) throw new TrailproofError('AUTH_REQUIRED', 'the API key is unknown or revoked');
    const wait = services.limiter.take(principal.keyId);
    if (wait > 0) throw new TrailproofError('RATE_LIMITED', `rate limit exceeded; retry in ${wait}s`);
    requireScope(principal, scope);
    const uid = (request.params as { uid?: string } | undefined)?.uid;
    if (principal.viewer && uid !== undefined) await assertViewerMaySee(services.sql, principal, uid);
    request.principal = principal;
  }
}

/** The scope a route's hooks (`onRequest` or `preHandler`) authenticate for; undefined for a public route. */
export function routeScope(hooks: unknown): Scope | undefined {
  for (const hook of Array.isArray(hooks) ? hooks : [hooks]) {
    const scope = (hook as { [SCOPE]?: Scope } | undefined)?.[SCOPE];
    if (scope !== undefined) return scope;
  }
  return undefined;
}

async function viewerPrincipal(services: Services, request: FastifyRequest, scope: Scope, token: string): Promise<Principal> {
  const grant = services.viewerTokens.verify(token);
  // A token lives no longer than the key, or the user, that minted it.
  const live = grant.mintedBy.startsWith(USER_PREFIX)
    ? await isUserActive(services.sql, grant.mintedBy.slice(USER_PREFIX.length))
    : await services.keys.isLive(grant.mintedBy);
  if (!live) {
    throw new TrailproofError('VIEWER_TOKEN_REVOKED', 'the key that minted this viewer token was revoked; ask for a new token');
  }
  const route = request.routeOptions.url ?? '';
  if (scope !== 'read' || !(VIEWER_ROUTES.has(route) || (grant.alerts && VIEWER_ALERT_ROUTES.has(route)))) {
    throw new TrailproofError('AUTH_FORBIDDEN', 'a viewer token can only read events of its tenant');
  }
  return { keyId: `tpv:${grant.id}`, name: 'viewer token', scope: 'read', tenant: grant.tenant, viewer: grant };
}

/** The `keyId` prefix of a session principal: `user:<user id>`. */
const USER_PREFIX = 'user:';

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TrailproofError('AUTH_REQUIRED', 'not authenticated');
  return request.principal;
}

/** The tenant the request acts on, checked against the key and for existence. */
export async function tenantFor(services: Services, request: FastifyRequest, requested: string | undefined, pointer = '/tenant'): Promise<string> {
  const tenant = resolveTenant(principalOf(request), requested, pointer);
  if (!(await services.tenants.exists(tenant))) {
    throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`, {
      details: [{ pointer, code: 'not_found', message: `tenant "${tenant}" does not exist` }],
    });
  }
  return tenant;
}

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, requestId: String(request.id), ...(typeof ua === 'string' ? { userAgent: ua } : {}) };
}
