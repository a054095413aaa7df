/**
 * The role matrix (docs/security.md#users-and-roles): every role, granted on one tenant and on every
 * tenant, calls every authenticated route of the app, and is let through or refused exactly as the
 * table in docs/security.md says; that table is the one in src/people/roles.ts. Every route that
 * changes anything refuses a session cookie without its CSRF token.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes, type RegisteredRoute } from '../../src/http/app.ts';
import { ROLES, ROLE_SCOPES, ROUTE_ROLES, type Role } from '../../src/people/roles.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signInAs, type SignedIn } from '../helpers/sessions.ts';

let t: TestApp;
let routes: RegisteredRoute[];
let uid: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const res = await t.request('POST', '/v1/events', { body: { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'alice' } } });
  uid = res.json().uid;
  routes = registeredRoutes(t.app).filter((r) => r.scope !== undefined && r.method !== 'HEAD');
});
afterAll(() => t.close());

/** The documented table: its first cell (a route, or "any other route needing a … key") → roles. */
function documentedTable(): Map<string, Role[]> {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('<!-- roles -->'), doc.indexOf('<!-- /roles -->'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| route') && !l.startsWith('|---'));
  const header = section.split('\n').find((l) => l.startsWith('| route'))!;
  const roles = header
    .split('|')
    .slice(2, -1)
    .map((c) => c.trim()) as Role[];
  return new Map(
    rows.map((row) => {
      const cells = row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return [cells[0]!, roles.filter((_, i) => cells[i + 1] === 'yes')];
    }),
  );
}

function documentedRoles(table: Map<string, Role[]>, route: RegisteredRoute): Role[] {
  const listed = table.get(`\`${route.method} ${route.url}\``);
  if (listed) return listed;
  const article = route.scope === 'read' ? 'a' : 'an';
  return table.get(`any other route needing ${article} \`${route.scope}\` key`)!;
}

describe('the role table', () => {
  it('in docs/security.md is the one in src/people/roles.ts', () => {
    const table = documentedTable();
    for (const scope of ['read', 'admin', 'ingest'] as const) {
      const article = scope === 'read' ? 'a' : 'an';
      expect(table.get(`any other route needing ${article} \`${scope}\` key`), scope).toEqual(ROLES.filter((r) => ROLE_SCOPES[r].includes(scope)));
    }
    const listed = [...table.keys()].filter((k) => k.startsWith('`')).map((k) => k.slice(1, -1));
    expect(listed.sort()).toEqual(Object.keys(ROUTE_ROLES).sort());
    for (const [route, roles] of Object.entries(ROUTE_ROLES)) expect(table.get(`\`${route}\``), route).toEqual(roles);
  });

  it('names only routes that exist', () => {
    const keys = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const route of Object.keys(ROUTE_ROLES)) expect(keys, route).toContain(route);
  });
});

describe.each([
  ['on one tenant', 'acme'],
  ['on every tenant', null],
] as const)('each role %s', (_, tenant) => {
  const sessions = new Map<Role, SignedIn>();
  beforeAll(async () => {
    for (const role of ROLES) sessions.set(role, await signInAs(t, [{ role, tenant }]));
  });

  it.each(ROLES)('%s may call exactly the routes documented for it', async (role) => {
    const table = documentedTable();
    const person = sessions.get(role)!;
    const mismatches: string[] = [];
    for (const route of routes) {
      const allowed = documentedRoles(table, route).includes(role);
      const res = await call(person, route);
      const refusedByRole = res.statusCode === 403 && /^your roles do not allow/.test(errorOf(res).message);
      if (res.statusCode === 401) mismatches.push(`${route.method} ${route.url}: 401 ${res.body}`);
      else if (allowed === refusedByRole) mismatches.push(`${route.method} ${route.url}: ${allowed ? 'refused' : 'allowed'} (${res.statusCode})`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('CSRF', () => {
  it('every route that changes anything refuses a session cookie without the CSRF token', async () => {
    const owner = await signInAs(t, [{ role: 'owner' }]);
    const changing = routes.filter((r) => r.method !== 'GET');
    expect(changing.length).toBeGreaterThan(20);
    for (const route of changing) {
      const res = await call(owner, route, { csrf: null });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
      expect(errorOf(res).message, `${route.method} ${route.url}`).toMatch(/CSRF token|own origin/);
    }
  });
});

/** The error of a response: Trailproof's `{ error }`, or the WorkOS-compatible routes' flat shape. */
function errorOf(res: { json(): unknown }): { message: string } {
  const body = res.json() as { error?: { message: string }; message?: string };
  return body.error && typeof body.error === 'object' ? body.error : { message: body.message ?? '' };
}

/** Calls `route` on tenant acme with placeholder parameters and a body naming the tenant. */
function call(person: SignedIn, route: RegisteredRoute, options: { csrf?: null } = {}) {
  const url = route.url.replace(':tenant', 'acme').replace(':uid', uid).replace(':action', 'user.login').replace(':id', 'no-such-id').replace('*', '0/x/000');
  const query = route.url.includes(':tenant') ? '' : '?tenant=acme';
  const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : { tenant: 'acme' };
  return person.request(route.method as 'GET', `${url}${query}`, { ...(body ? { body } : {}), ...options });
}
