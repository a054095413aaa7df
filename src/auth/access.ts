/**
 * What a principal may do: scope checks and tenant resolution, the two rules every route applies.
 * `admin` includes `read` and `ingest`; `read` and `ingest` are disjoint (an ingest key cannot read).
 */
import { TrailproofError } from '../errors.ts';
import type { Principal, Scope } from './api-keys.ts';

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scope === 'admin' || principal.scope === scope) return;
  throw new TrailproofError('AUTH_FORBIDDEN', `this key has scope "${principal.scope}"; the request needs "${scope}"`);
}

/**
 * The tenant a request acts on. A bound key implies its tenant and may not name another; an unbound
 * key must name one. Existence is checked by the caller (it needs the database).
 */
export function resolveTenant(principal: Principal, requested: string | undefined, pointer = '/tenant'): string {
  if (principal.tenants !== undefined && principal.tenant === UNRESOLVED_TENANT) {
    if (requested === undefined || requested === '') {
      throw new TrailproofError('TENANT_REQUIRED', 'your roles allow this on several tenants: name one with `tenant`', {
        details: [{ pointer, code: 'required', message: 'a tenant is required' }],
      });
    }
    if (!principal.tenants.includes(requested)) throw tenantForbidden(pointer, 'your roles do not allow this on that tenant');
    return requested;
  }
  if (principal.tenant !== null) {
    if (requested !== undefined && requested !== principal.tenant) {
      throw tenantForbidden(pointer, principal.user ? 'your roles do not allow this on that tenant' : 'this key is bound to another tenant');
    }
    return principal.tenant;
  }
  if (requested === undefined || requested === '') {
    throw new TrailproofError('TENANT_REQUIRED', 'this key is not bound to a tenant: name one with `tenant`', {
      details: [{ pointer, code: 'required', message: 'a tenant is required with an unbound key' }],
    });
  }
  return requested;
}

/**
 * The tenant of a person allowed a route on several tenants until the request names one of them:
 * not a valid tenant id, so a listing filtered by it is empty and `resolveTenant` asks for a tenant.
 */
export const UNRESOLVED_TENANT = '(unresolved)';

export function tenantForbidden(pointer: string, message: string): TrailproofError {
  return new TrailproofError('AUTH_FORBIDDEN', message, { details: [{ pointer, code: 'tenant_forbidden', message }] });
}
