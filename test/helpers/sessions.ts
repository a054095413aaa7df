/**
 * People signed into an in-process Trailproof: a user made through `POST /v1/users`, signed in by
 * redeeming a one-time link at `GET /v1/auth/link` (the way a browser does), with their cookie and
 * CSRF token ready to send.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { RoleGrant } from '../../src/people/roles.ts';
import { createSignInLink } from '../../src/people/sessions.ts';
import type { TestApp } from './app.ts';

export interface SignedIn {
  userId: string;
  email: string;
  /** `tp_session=…`, for a `cookie` header. */
  cookie: string;
  csrf: string;
  request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: { body?: unknown; csrf?: string | null; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
}

let counter = 0;

export async function signInAs(
  t: TestApp,
  roles: (Omit<RoleGrant, 'tenant'> & { tenant?: string | null })[],
  email = `person${++counter}@example.com`,
): Promise<SignedIn> {
  const created = await t.request('POST', '/v1/users', { body: { email, roles } });
  if (created.statusCode !== 201) throw new Error(`create user: ${created.statusCode} ${created.body}`);
  const userId = (created.json() as { id: string }).id;
  return signInUser(t, userId, email);
}

/** Signs the user in through a one-time link; `cookie` is what the browser already holds. */
export async function signInUser(t: TestApp, userId: string, email: string, cookie?: string): Promise<SignedIn> {
  const token = await createSignInLink(t.db.sql, userId);
  const res = await t.app.inject({ method: 'GET', url: `/v1/auth/link?token=${token}`, headers: { host: '127.0.0.1:3700', ...(cookie ? { cookie } : {}) } });
  if (res.statusCode !== 303) throw new Error(`sign-in link: ${res.statusCode} ${res.body}`);
  const sessionCookie = sessionCookieOf(res);
  if (!sessionCookie) throw new Error('sign-in set no session cookie');
  const session = await t.app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: sessionCookie } });
  const csrf = (session.json() as { csrf_token: string }).csrf_token;
  return {
    userId,
    email,
    cookie: sessionCookie,
    csrf,
    request(method, url, options = {}) {
      const headers: Record<string, string> = { cookie: sessionCookie, host: '127.0.0.1:3700', ...options.headers };
      const token = options.csrf === undefined ? csrf : options.csrf;
      if (token !== null) headers['x-trailproof-csrf'] = token;
      return t.app.inject({ method, url, headers, ...(options.body !== undefined ? { payload: options.body as object } : {}) });
    },
  };
}

/** `tp_session=…` from a response's Set-Cookie, or undefined. */
export function sessionCookieOf(res: LightMyRequestResponse): string | undefined {
  const header = res.headers['set-cookie'];
  const list = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const line = list.find((c) => c.startsWith('tp_session='));
  return line?.split(';')[0];
}
