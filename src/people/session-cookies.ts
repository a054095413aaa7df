/**
 * The session cookie and CSRF rules (docs/security.md#sessions). The cookie is `HttpOnly` (no script
 * reads it), `SameSite=Lax` (not sent on cross-site subrequests or POSTs; sent on the top-level
 * redirect back from the identity provider), `Path=/`, and `Secure` unless the browser reached the
 * service on a loopback name over plain HTTP (a local install). A request made with the cookie
 * that changes anything must carry the session's CSRF token in `X-Trailproof-CSRF` and, when the
 * browser names its `Origin`, come from the service's own origin.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TrailproofError } from '../errors.ts';
import { csrfTokenMatches } from './sessions.ts';

export const SESSION_COOKIE = 'tp_session';
export const CSRF_HEADER = 'x-trailproof-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The value of cookie `name` in the request, if any. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Sets cookie `name` (`maxAgeSeconds` 0 clears it). */
export function setCookie(request: FastifyRequest, reply: FastifyReply, name: string, value: string, maxAgeSeconds: number, path = '/'): void {
  const attributes = [`${name}=${encodeURIComponent(value)}`, `Path=${path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (isSecureContext(request)) attributes.push('Secure');
  const previous = reply.getHeader('set-cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)];
  reply.header('set-cookie', [...list, attributes.join('; ')]);
}

/** Whether cookies get `Secure`: always, except for a loopback host name reached over plain HTTP. */
export function isSecureContext(request: FastifyRequest): boolean {
  const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  return request.protocol === 'https' || !LOOPBACK_HOSTS.has(host);
}

/**
 * Refuses a state-changing request made with a session cookie unless it carries the session's CSRF
 * token and, when the browser sends `Origin`, comes from this service's own origin.
 */
export function checkCsrf(request: FastifyRequest, csrfToken: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
    throw new TrailproofError('AUTH_FORBIDDEN', 'a request made with a session cookie must come from the console’s own origin', {
      details: [{ pointer: '/headers/origin', code: 'csrf', message: 'cross-origin request' }],
    });
  }
  const presented = request.headers[CSRF_HEADER];
  if (!csrfTokenMatches(typeof presented === 'string' ? presented : undefined, csrfToken)) {
    throw new TrailproofError('AUTH_FORBIDDEN', `a request that changes anything with a session cookie needs the session's CSRF token in ${CSRF_HEADER}`, {
      details: [{ pointer: `/headers/${CSRF_HEADER}`, code: 'csrf', message: 'missing or wrong CSRF token' }],
    });
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
