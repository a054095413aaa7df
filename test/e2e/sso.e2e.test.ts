/**
 * Issue 21, acceptance 1: OIDC sign-in to the console, end to end in Chromium, against a real
 * OIDC provider (the `oidc-provider` package, run here with its development login and consent
 * pages) and a real `trailproof serve` process: a person whose groups map to a role signs in with
 * SSO and adds a user on the Users page (recorded under their name); a person whose groups map to
 * no role is refused; a session idle past its timeout ends; sign-out ends the session on the server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const CLIENT_SECRET = `e2e-oidc-client-secret-${'c'.repeat(24)}`;
const IDLE_SECONDS = 6;
/** The people the provider knows, and their groups. */
const PEOPLE: Record<string, { name: string; groups: string[] }> = {
  alice: { name: 'Alice Adams', groups: ['staff', 'trailproof-owners'] },
  mallory: { name: 'Mallory Moe', groups: ['staff'] },
};

let db: TestDatabase;
let server: ServerProcess;
let issuerServer: http.Server;
let browser: Browser;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = randomAdminKey();
  // The provider's port first: the service is configured with its issuer, and the provider with the service's redirect URL.
  const issuerPort = await freePort();
  const issuer = `http://127.0.0.1:${issuerPort}`;
  server = await startServerProcess({
    env: {
      DATABASE_URL: db.url,
      TRAILPROOF_ADMIN_KEY: adminKey,
      LOG_LEVEL: 'warn',
      TRAILPROOF_SECRET_KEY: `e2e-secret-key-${'k'.repeat(24)}`,
      TRAILPROOF_OIDC_ISSUER: issuer,
      TRAILPROOF_OIDC_CLIENT_ID: 'trailproof-console',
      TRAILPROOF_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      TRAILPROOF_OIDC_SCOPES: 'openid email profile groups',
      TRAILPROOF_OIDC_ROLES: 'trailproof-owners=owner trailproof-auditors=auditor@acme',
      TRAILPROOF_SESSION_IDLE_SECONDS: String(IDLE_SECONDS),
    },
  });
  expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: 'acme' })).status).toBe(201);
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'trailproof-console',
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${server.url}/v1/auth/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    cookies: { keys: ['e2e-provider-cookie-key'] },
    async findAccount(_ctx, id) {
      const person = PEOPLE[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true, name: person.name, groups: person.groups }) };
    },
  });
  issuerServer = http.createServer(provider.callback());
  await new Promise<void>((resolve) => issuerServer.listen(issuerPort, '127.0.0.1', resolve));
  expect((issuerServer.address() as AddressInfo).port).toBe(issuerPort);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => issuerServer?.close(resolve));
  await server?.stop('SIGTERM').catch(() => {});
  await db?.drop();
});

/** Clicks "Sign in with SSO" and goes through the provider's login and consent pages, as `login`. */
async function signInWithSso(page: Page, login: string): Promise<void> {
  await page.goto(server.url);
  await page.locator('[data-sso]').click();
  for (let step = 0; step < 6; step++) {
    await page.waitForLoadState('load');
    if (page.url().startsWith(server.url)) return;
    const loginField = page.locator('input[name=login]');
    if (await loginField.count()) {
      await loginField.fill(login);
      await page.locator('input[name=password]').fill('any password');
    }
    await Promise.all([page.waitForNavigation(), page.locator('button[type=submit]').first().click()]);
  }
  throw new Error(`the provider's pages did not lead back to the console: ${page.url()}`);
}

async function records(
  action: string,
): Promise<{ actor: { type: string; id: string; name?: string }; targets: { id: string; name?: string }[]; metadata?: Record<string, unknown> }[]> {
  const res = await request(`${server.url}/v1/events?tenant=_system&action=${action}`, adminKey);
  return res.body.data;
}

describe('OIDC sign-in', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
  });
  afterAll(() => context?.close());

  it('signs a person in with SSO, their groups mapped to a role, in an HttpOnly session cookie', async () => {
    await signInWithSso(page, 'alice');
    await expect.poll(() => page.locator('[data-signed-in]').textContent(), { timeout: 15_000 }).toContain('Alice Adams (owner)');
    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'tp_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
    // The pending sign-in's cookie is gone, and no script can read the session.
    expect((await context.cookies(server.url)).map((c) => c.name)).not.toContain('tp_oidc');
    expect(await page.evaluate(() => document.cookie)).not.toContain('tp_session');
    const started = await records('trailproof.session.started');
    expect(started.at(-1)!.actor).toMatchObject({ type: 'user', name: 'alice@example.com' });
    expect(started.at(-1)!.metadata).toMatchObject({ method: 'oidc' });
  });

  it('adds a user on the Users page, recorded under the person who did it', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Email').fill('dana@example.com');
    await form.getByLabel('Role').selectOption('auditor');
    await form.getByLabel('On').selectOption('acme');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => page.locator('[data-user="dana@example.com"] [data-grant]').textContent()).toContain('auditor on acme');
    await expect.poll(() => page.locator('[data-user="alice@example.com"]').textContent()).toContain('owner on every tenant (SSO)');
    const created = (await records('trailproof.user.created')).find((r) => r.targets[0]!.name === 'dana@example.com')!;
    expect(created.actor).toMatchObject({ type: 'user', name: 'alice@example.com' });
  });

  it('ends a session idle for longer than the idle timeout', async () => {
    await page.waitForTimeout((IDLE_SECONDS + 2) * 1000);
    await page.getByRole('link', { name: 'Events' }).click();
    await expect.poll(() => page.locator('tp-console .signin [role=alert]').textContent(), { timeout: 15_000 }).toContain('Your session has ended');
    // The sign-in page asks the server which providers it offers before it shows the button.
    await page.locator('[data-sso]').waitFor({ timeout: 15_000 });
  });

  it('signs out: the session ends on the server, not only in the browser', async () => {
    await signInWithSso(page, 'alice');
    await page.locator('[data-signed-in]').waitFor({ timeout: 15_000 });
    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'tp_session')!;
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('[data-sso]').waitFor();
    const replay = await fetch(`${server.url}/v1/whoami`, { headers: { cookie: `tp_session=${cookie.value}` } });
    expect(replay.status).toBe(401);
    const ended = await records('trailproof.session.ended');
    expect(ended.at(-1)!.metadata).toMatchObject({ reason: 'signed out' });
  });
});

describe('a person whose groups map to no role', () => {
  it('is refused, told why, and the refusal is recorded', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInWithSso(page, 'mallory');
    await expect.poll(() => page.locator('tp-console .signin [role=alert]').textContent(), { timeout: 15_000 }).toContain('no role is granted to you');
    expect((await context.cookies(server.url)).map((c) => c.name)).not.toContain('tp_session');
    const denied = await records('trailproof.session.denied');
    expect(denied.at(-1)).toMatchObject({ actor: { type: 'user', name: 'mallory@example.com' }, metadata: { reason: 'no_role', method: 'oidc' } });
    await context.close();
  });
});
