/**
 * Issue 18, the console's tenant page in a real browser against a real `trailproof serve`: it
 * shows the tenant's retention policy, sets it (checked, with the API's error beside the field,
 * recorded in the trail), lists the tenant's legal holds with their releases, another tenant's
 * holds never among them, and releases a hold with a reason (refused without one, with the API's
 * error beside the field; the release recorded in the tenant's trail). An admin starts a lifecycle
 * run there and sees it end with what it purged.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium, consolePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

let db: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let adminKey: string;

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = randomAdminKey();
  server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });
  const api = (path: string, method = 'GET', body?: unknown) => request(`${server.url}${path}`, adminKey, method, body);
  for (const id of ['acme', 'globex', 'initech']) expect((await api('/v1/tenants', 'POST', { id })).status).toBe(201);
  // Beyond the default retention of 365 days.
  const old = (n: number) => ({ action: 'document.read', actor: { type: 'user', id: 'alice' }, targets: [{ type: 'document', id: `doc-${n}` }] });
  await appendReceivedAgo(db.sql, 'initech', 400, [old(1), old(2)]);
  expect((await api('/v1/legal-holds', 'POST', { tenant: 'acme', reason: 'case 42', filter: { actor: 'bob' } })).status).toBe(201);
  const released = await api('/v1/legal-holds', 'POST', { tenant: 'acme', reason: 'audit 2026', filter: { target: { type: 'document', id: 'doc-7' } } });
  expect((await api(`/v1/legal-holds/${released.body.id}`, 'DELETE', { reason: 'closed' })).status).toBe(200);
  expect((await api('/v1/legal-holds', 'POST', { tenant: 'globex', reason: 'globex matter' })).status).toBe(201);
  browser = await launchChromium();
  page = await consolePage(browser);
  await page.goto(`${server.url}/?view=tenants&tenant=acme`);
  await page.locator('#key').fill(adminKey);
  await page.locator('button[type=submit]').click();
});
afterAll(async () => {
  await browser?.close();
  await killStartedProcesses();
  await db?.drop();
});

const section = () => page.locator('tp-tenant-lifecycle');

describe("the console's tenant page", () => {
  it('shows the retention policy in force: the service default', async () => {
    await expect.poll(() => section().locator('[data-retention]').textContent()).toMatch(/kept 365 days after they were received; the service default/);
  });

  it("lists the tenant's legal holds, in force and released, and not another tenant's", async () => {
    const rows = section().locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const texts = await rows.allTextContents();
    expect(texts[0]).toMatch(/audit 2026.*target document:doc-7.*released .*closed/s);
    expect(texts[1]).toMatch(/case 42.*actor bob.*in force/s);
    expect(texts.join()).not.toContain('globex matter');
  });

  it("refuses hot days beyond days with the API's message beside the field, and saves nothing", async () => {
    await section().getByLabel('Days kept').fill('30');
    await section().getByLabel('Days in the database (archived after)').fill('40');
    await section().getByRole('button', { name: 'Save retention' }).click();
    const hot = section().getByLabel('Days in the database (archived after)');
    await expect.poll(() => hot.getAttribute('aria-invalid')).toBe('true');
    expect(await section().locator('[data-error-for="/hot_days"]').textContent()).toContain('at most days (30)');
    expect((await request(`${server.url}/v1/tenants/acme/retention`, adminKey)).body).toMatchObject({ days: 365, source: 'default' });
  });

  it('sets the policy: shown at once, served by the API, and recorded in the trail', async () => {
    await section().getByLabel('Days in the database (archived after)').fill('7');
    await section().getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(() => section().getByRole('status').textContent()).toContain('Saved');
    expect(await section().locator('[data-retention]').textContent()).toMatch(
      /kept 30 days after they were received, 7 of them in the database when archived; set for this tenant/,
    );
    expect((await request(`${server.url}/v1/tenants/acme/retention`, adminKey)).body).toMatchObject({ days: 30, hot_days: 7, source: 'tenant' });
    const trail = await request(`${server.url}/v1/events?tenant=acme&action=retention.updated`, adminKey);
    expect(trail.body.data.map((e: { metadata: unknown }) => e.metadata)).toEqual([{ days: 30, hot_days: 7, source: 'tenant' }]);
  });

  it("releases a hold: the reason is required (the API's message beside the field), then the hold is released and recorded", async () => {
    const created = await request(`${server.url}/v1/legal-holds`, adminKey, 'POST', { tenant: 'acme', reason: 'subpoena 9' });
    expect(created.status).toBe(201);
    await page.reload();
    const row = section().locator(`tr[data-hold="${created.body.id}"]`);
    await row.getByRole('button', { name: 'Release hold: subpoena 9' }).click();
    const reason = row.getByLabel('Reason for the release (required)');
    await row.getByRole('button', { name: 'Release hold', exact: true }).click();
    await expect.poll(() => reason.getAttribute('aria-invalid')).toBe('true');
    expect(await row.locator('[data-error-for="/reason"]').textContent()).toBeTruthy();
    expect((await request(`${server.url}/v1/legal-holds/${created.body.id}`, adminKey)).body.released_at).toBeNull();

    await reason.fill('matter settled');
    await row.getByRole('button', { name: 'Release hold', exact: true }).click();
    await expect.poll(() => row.textContent()).toMatch(/released .*matter settled/s);
    expect(await row.getByRole('button', { name: /Release/ }).count()).toBe(0);
    const active = await request(`${server.url}/v1/legal-holds?tenant=acme&active=true`, adminKey);
    expect(active.body.data.map((h: { reason: string }) => h.reason)).toEqual(['case 42']);
    const trail = await request(`${server.url}/v1/events?tenant=acme&action=legal_hold.released`, adminKey);
    expect(trail.body.data.map((e: { targets: { id: string }[]; metadata: unknown }) => [e.targets[0]?.id, e.metadata])).toContainEqual([
      created.body.id,
      { reason: 'matter settled' },
    ]);
  });

  it("follows the tenant chosen in the header: another tenant's policy and holds", async () => {
    await page.getByRole('combobox', { name: 'Tenant' }).selectOption('globex');
    await expect.poll(() => section().locator('h3').first().textContent()).toBe('Retention of globex');
    await expect.poll(() => section().locator('tbody tr').allTextContents()).toEqual([expect.stringContaining('globex matter')]);
    expect(await section().locator('[data-retention]').textContent()).toContain('365 days');
  });

  it('starts a lifecycle run and shows it end with what it purged', async () => {
    await page.getByRole('combobox', { name: 'Tenant' }).selectOption('initech');
    await expect.poll(() => section().locator('h3').first().textContent()).toBe('Retention of initech');
    await expect.poll(() => section().getByText('No runs of this tenant yet.').count()).toBe(1);
    await section().getByRole('button', { name: 'Run now' }).click();
    const run = section().locator('tr[data-run]');
    await expect.poll(() => run.locator('[data-status]').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await run.locator('td').allTextContents()).toEqual([expect.any(String), 'api', 'succeeded', '2']);
    const runs = (await request(`${server.url}/v1/lifecycle/runs?tenant=initech`, adminKey)).body.data;
    expect(runs).toMatchObject([{ id: await run.getAttribute('data-run'), trigger: 'api', status: 'succeeded', tenants: [{ removed: 2 }] }]);
  });
});
