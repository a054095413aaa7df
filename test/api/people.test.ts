/**
 * Users, roles and console sessions (docs/security.md#users-and-roles, #sessions): the users API
 * validates and scopes, sessions set safe cookies, need a CSRF token to change anything, end at
 * sign-out, at their timeouts and when the user is disabled, and every action made with one is
 * recorded under the person's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { sessionCookieOf, signInAs, signInUser } from '../helpers/sessions.ts';
import { createSignInLink } from '../../src/people/sessions.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('globex');
  for (const tenant of ['acme', 'globex']) {
    const res = await t.request('POST', '/v1/events', { body: { tenant, action: 'user.login', actor: { type: 'user', id: `${tenant}-alice` } } });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(() => t.close());

describe('the users API', () => {
  it('creates a user with roles and refuses the same email twice', async () => {
    const res = await t.request('POST', '/v1/users', { body: { email: 'Dana@Example.com', name: 'Dana', roles: [{ role: 'analyst', tenant: 'acme' }] } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'dana@example.com',
      name: 'Dana',
      disabled: false,
      roles: [{ role: 'analyst', tenant: 'acme', source: 'manual' }],
    });
    const again = await t.request('POST', '/v1/users', { body: { email: 'dana@example.com', roles: [] } });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'USER_EXISTS', details: [{ pointer: '/email', code: 'exists' }] });
  });

  it.each([
    [{ email: 'not an email', roles: [] }, 'REQUEST_INVALID', '/email'],
    [{ email: 'a@b.c', roles: [{ role: 'superuser' }] }, 'REQUEST_INVALID', '/roles/0/role'],
    [{ email: 'a@b.c', roles: [{ role: 'viewer', tenant: 'nope' }] }, 'TENANT_NOT_FOUND', '/roles/0/tenant'],
  ])('refuses %j with %s at %s', async (body, code, pointer) => {
    const res = await t.request('POST', '/v1/users', { body });
    expect(res.json().error.code).toBe(code);
    expect(res.json().error.details.map((d: { pointer: string }) => d.pointer)).toContain(pointer);
  });

  it('lets a key bound to a tenant grant roles there only, and see only its users', async () => {
    const acmeAdmin = await t.createKey('admin', 'acme');
    const global = await t.request('POST', '/v1/users', { key: acmeAdmin, body: { email: 'g@example.com', roles: [{ role: 'viewer' }] } });
    expect(global.statusCode).toBe(403);
    expect(global.json().error.details).toEqual([expect.objectContaining({ pointer: '/roles/0', code: 'role_forbidden' })]);
    const other = await t.request('POST', '/v1/users', { key: acmeAdmin, body: { email: 'g@example.com', roles: [{ role: 'viewer', tenant: 'globex' }] } });
    expect(other.statusCode).toBe(403);
    const globexUser = await t.request('POST', '/v1/users', { body: { email: 'globex-only@example.com', roles: [{ role: 'viewer', tenant: 'globex' }] } });
    const listed = await t.request('GET', '/v1/users', { key: acmeAdmin });
    expect(listed.json().data.map((u: { email: string }) => u.email)).not.toContain('globex-only@example.com');
    expect((await t.request('GET', `/v1/users/${globexUser.json().id}`, { key: acmeAdmin })).statusCode).toBe(404);
    expect((await t.request('PATCH', `/v1/users/${globexUser.json().id}`, { key: acmeAdmin, body: { disabled: true } })).statusCode).toBe(404);
  });

  it('refuses read keys', async () => {
    const read = await t.createKey('read');
    expect((await t.request('GET', '/v1/users', { key: read })).statusCode).toBe(403);
  });

  it('lets an admin grant analyst, auditor and viewer but not admin, and not change an owner', async () => {
    const admin = await signInAs(t, [{ role: 'admin', tenant: 'acme' }]);
    const ok = await admin.request('POST', '/v1/users', { body: { email: 'eve@example.com', roles: [{ role: 'auditor', tenant: 'acme' }] } });
    expect(ok.statusCode).toBe(201);
    const escalate = await admin.request('PUT', `/v1/users/${ok.json().id}/roles`, { body: { roles: [{ role: 'admin', tenant: 'acme' }] } });
    expect(escalate.statusCode).toBe(403);
    const owner = await t.request('POST', '/v1/users', { body: { email: 'owner-acme@example.com', roles: [{ role: 'owner', tenant: 'acme' }] } });
    const disable = await admin.request('PATCH', `/v1/users/${owner.json().id}`, { body: { disabled: true } });
    expect(disable.statusCode).toBe(403);
    // Replacing roles keeps the grants the admin could not have made.
    const mixed = await t.request('POST', '/v1/users', {
      body: {
        email: 'mixed@example.com',
        roles: [
          { role: 'viewer', tenant: 'acme' },
          { role: 'auditor', tenant: 'globex' },
        ],
      },
    });
    const replaced = await admin.request('PUT', `/v1/users/${mixed.json().id}/roles`, { body: { roles: [{ role: 'analyst', tenant: 'acme' }] } });
    expect(replaced.statusCode).toBe(200);
    expect(
      replaced
        .json()
        .roles.map((g: { role: string; tenant: string }) => `${g.role}@${g.tenant}`)
        .sort(),
    ).toEqual(['analyst@acme', 'auditor@globex']);
  });
});

describe('sessions', () => {
  it('sets an HttpOnly, SameSite=Lax cookie, Secure except on a loopback host', async () => {
    const res = await t.request('POST', '/v1/users', { body: { email: 'cookie@example.com', roles: [{ role: 'viewer' }] } });
    const userId = res.json().id;
    for (const [host, secure] of [
      ['127.0.0.1:3700', false],
      ['localhost:3700', false],
      ['audit.example.com', true],
    ] as const) {
      const token = await createSignInLink(t.db.sql, userId);
      const signIn = await t.app.inject({ method: 'GET', url: `/v1/auth/link?token=${token}`, headers: { host } });
      expect(signIn.statusCode).toBe(303);
      const line = [signIn.headers['set-cookie']].flat().find((c) => String(c).startsWith('tp_session='))!;
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).toMatch(/; Path=\//);
      expect(/; Secure/.test(String(line))).toBe(secure);
    }
  });

  it('uses a sign-in link once only', async () => {
    const res = await t.request('POST', '/v1/users', { body: { email: 'once@example.com', roles: [{ role: 'viewer' }] } });
    const token = await createSignInLink(t.db.sql, res.json().id);
    expect((await t.app.inject({ method: 'GET', url: `/v1/auth/link?token=${token}` })).statusCode).toBe(303);
    const again = await t.app.inject({ method: 'GET', url: `/v1/auth/link?token=${token}` });
    expect(again.headers.location).toBe('/?sign_in_error=link_invalid');
    expect(sessionCookieOf(again)).toBeUndefined();
  });

  it('reads as the person, and records the read under their name', async () => {
    const viewer = await signInAs(t, [{ role: 'viewer', tenant: 'acme' }]);
    const page = await viewer.request('GET', '/v1/events?tenant=acme&action=user.login');
    expect(page.statusCode).toBe(200);
    expect(page.json().data).toHaveLength(1);
    const records = await t.request('GET', '/v1/events?tenant=acme&action=audit_log.viewed');
    const mine = records.json().data.filter((e: { actor: { id: string } }) => e.actor.id === viewer.userId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0].actor).toEqual({ type: 'user', id: viewer.userId, name: viewer.email });
    expect(mine[0].context.session_id).toMatch(/^ses_/);
  });

  it('keeps a person to the tenants of their roles', async () => {
    const analyst = await signInAs(t, [{ role: 'analyst', tenant: 'acme' }]);
    const other = await analyst.request('GET', '/v1/events?tenant=globex');
    expect(other.statusCode).toBe(403);
    expect(other.json().error.details[0]).toMatchObject({ code: 'tenant_forbidden' });
    const both = await signInAs(t, [
      { role: 'viewer', tenant: 'acme' },
      { role: 'analyst', tenant: 'globex' },
    ]);
    expect((await both.request('GET', '/v1/events')).json().error.code).toBe('TENANT_REQUIRED');
    expect((await both.request('GET', '/v1/events?tenant=globex')).statusCode).toBe(200);
    expect((await both.request('GET', '/v1/tenants')).json().data.map((x: { id: string }) => x.id)).toEqual(['acme', 'globex']);
    // An analyst's right to export holds on globex only.
    expect((await both.request('GET', '/v1/exports?tenant=acme&format=jsonl')).statusCode).toBe(403);
    expect((await both.request('GET', '/v1/exports?tenant=globex&format=jsonl')).statusCode).toBe(200);
    const created = await both.request('POST', '/v1/saved-searches', { body: { tenant: 'acme', name: 'x', filter: { action: 'user.*' } } });
    expect(created.statusCode).toBe(403);
  });

  it('needs the CSRF token, from the same origin, for a change made with the cookie', async () => {
    const analyst = await signInAs(t, [{ role: 'analyst', tenant: 'acme' }]);
    const body = { name: 'failed logins', filter: { action: 'user.login_failed' } };
    const none = await analyst.request('POST', '/v1/saved-searches', { body, csrf: null });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.details[0]).toMatchObject({ pointer: '/headers/x-trailproof-csrf', code: 'csrf' });
    const wrong = await analyst.request('POST', '/v1/saved-searches', { body, csrf: 'x'.repeat(43) });
    expect(wrong.statusCode).toBe(403);
    const foreign = await analyst.request('POST', '/v1/saved-searches', { body, headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.details[0]).toMatchObject({ pointer: '/headers/origin', code: 'csrf' });
    // Another session's token does not do either.
    const other = await signInAs(t, [{ role: 'analyst', tenant: 'acme' }]);
    expect((await analyst.request('POST', '/v1/saved-searches', { body, csrf: other.csrf })).statusCode).toBe(403);
    const ok = await analyst.request('POST', '/v1/saved-searches', { body, headers: { origin: 'http://127.0.0.1:3700' } });
    expect(ok.statusCode).toBe(201);
    const record = (await t.request('GET', '/v1/events?tenant=acme&action=saved_search.created')).json().data[0];
    expect(record.actor).toMatchObject({ type: 'user', id: analyst.userId });
  });

  it('ends at sign-out, and everywhere at sign-out everywhere', async () => {
    const a = await signInAs(t, [{ role: 'viewer', tenant: 'acme' }]);
    const b = await signInUser(t, a.userId, a.email);
    const c = await signInUser(t, a.userId, a.email);
    expect((await a.request('POST', '/v1/auth/sign-out', { csrf: null })).statusCode).toBe(403);
    const out = await a.request('POST', '/v1/auth/sign-out');
    expect(out.statusCode).toBe(204);
    expect(String([out.headers['set-cookie']].flat()[0])).toMatch(/^tp_session=; .*Max-Age=0/);
    expect((await a.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(401);
    expect((await b.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(200);
    expect((await b.request('POST', '/v1/auth/sign-out-everywhere')).statusCode).toBe(204);
    expect((await b.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(401);
    expect((await c.request('GET', '/v1/events?tenant=acme')).json().error.code).toBe('AUTH_REQUIRED');
    const started = (await t.request('GET', '/v1/events?tenant=_system&action=trailproof.session.*')).json().data;
    expect(started.filter((e: { actor: { id: string } }) => e.actor.id === a.userId).map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['trailproof.session.started', 'trailproof.session.ended']),
    );
  });

  it('ends every session of a user who is disabled, at once', async () => {
    const person = await signInAs(t, [{ role: 'viewer', tenant: 'acme' }]);
    expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(200);
    const disabled = await t.request('PATCH', `/v1/users/${person.userId}`, { body: { disabled: true } });
    expect(disabled.json()).toMatchObject({ disabled: true });
    expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(401);
    // Nor can a link sign them in again until enabled.
    const token = await createSignInLink(t.db.sql, person.userId);
    expect((await t.app.inject({ method: 'GET', url: `/v1/auth/link?token=${token}` })).headers.location).toBe('/?sign_in_error=link_invalid');
    const records = (await t.request('GET', '/v1/events?tenant=acme&action=trailproof.user.disabled')).json().data;
    expect(records[0].targets[0]).toMatchObject({ type: 'user', id: person.userId });
  });

  it('gives a new session at every sign-in and ends the one the browser held (no fixation)', async () => {
    const attacker = await signInAs(t, [{ role: 'viewer', tenant: 'globex' }]);
    const res = await t.request('POST', '/v1/users', { body: { email: 'victim@example.com', roles: [{ role: 'admin', tenant: 'acme' }] } });
    // The victim signs in in a browser where the attacker planted their own session cookie.
    const victim = await signInUser(t, res.json().id, 'victim@example.com', attacker.cookie);
    expect(victim.cookie).not.toBe(attacker.cookie);
    expect((await attacker.request('GET', '/v1/events?tenant=globex')).statusCode).toBe(401);
    // An invented cookie value is no session either.
    const made = await t.app.inject({ method: 'GET', url: '/v1/events?tenant=acme', headers: { cookie: 'tp_session=invented' } });
    expect(made.statusCode).toBe(401);
  });
});

describe('session timeouts', () => {
  let short: TestApp;
  beforeAll(async () => {
    short = await createTestApp({ TRAILPROOF_SESSION_IDLE_SECONDS: '1', TRAILPROOF_SESSION_MAX_SECONDS: '3' });
    await short.createTenant('acme');
  });
  afterAll(() => short.close());

  it('ends a session idle for longer than the idle timeout', async () => {
    const person = await signInAs(short, [{ role: 'viewer' }]);
    expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(200);
    await sleep(1300);
    expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(401);
  });

  it('ends an active session at the absolute timeout', async () => {
    const person = await signInAs(short, [{ role: 'viewer' }]);
    const started = Date.now();
    while (Date.now() - started < 2500) {
      expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(200);
      await sleep(400);
    }
    await sleep(Math.max(0, 3200 - (Date.now() - started)));
    expect((await person.request('GET', '/v1/events?tenant=acme')).statusCode).toBe(401);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
