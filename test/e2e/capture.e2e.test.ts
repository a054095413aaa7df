/**
 * Issue 20 points 3 and 5, the console's Capture page in a real browser against a real
 * `trailproof serve` relaying a real application database: the relays panel shows the tenant's
 * backlog and lag while the relay is held back (another session holds its lock), then what it
 * relayed once free; the reversal form plans one actor's changes, newest first, with the step a
 * later change by someone else conflicts with marked and that person named, the SQL, and the plan
 * JSON to download for `trailproof capture revert`.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, consolePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCapture } from '../../src/capture/install.ts';
import type { Sql } from '../../src/store/db.ts';
import { createAppDatabase, type AppDatabase } from '../helpers/app-database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

let db: TestDatabase;
let appDb: AppDatabase;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let adminKey: string;

beforeAll(async () => {
  [db, appDb] = await Promise.all([createTestDatabase(), createAppDatabase()]);
  await installCapture(appDb.sql, { tables: ['accounts'], tenantColumn: 'org_id' });
  adminKey = randomAdminKey();
  server = await startServerProcess({
    env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_CAPTURE_DATABASE_URL: appDb.url, LOG_LEVEL: 'warn' },
  });
  for (const id of ['acme', 'globex']) expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id })).status).toBe(201);
  browser = await launchChromium();
  page = await consolePage(browser, { acceptDownloads: true });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await killStartedProcesses();
  await appDb?.drop();
  await db?.drop();
});

/** Runs `work` in one transaction of the application, as `actor`. */
function as<T>(actor: string, work: (tx: Sql) => Promise<T>): Promise<T> {
  return appDb.appSql.begin(async (tx) => {
    await tx`select set_config('trailproof.context', ${JSON.stringify({ actor: { type: 'user', id: actor } })}, true)`;
    return work(tx as unknown as Sql);
  }) as Promise<T>;
}

async function captured(tenant: string): Promise<number> {
  return (await request(`${server.url}/v1/events?tenant=${tenant}&target_type=accounts&limit=100`, adminKey)).body.data.length;
}

const capturePage = () => page.locator('tp-capture-page');
const relayRow = () => capturePage().locator('tbody tr[data-source]');

describe("the console's Capture page", () => {
  it('shows the backlog and lag while the relay is held back, then what it relayed', async () => {
    // Another session holds the relay's lock: the relay finds it busy and leaves the outbox as is.
    let release!: () => void;
    let locked!: () => void;
    const taken = new Promise<void>((resolve) => (locked = resolve));
    const holder = appDb.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('trailproof_capture.relay'))`;
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await taken;
    await as('alice', (tx) => tx`insert into accounts (org_id, name) values ('acme', 'a'), ('acme', 'b'), ('acme', 'c'), ('globex', 'g')`);

    await page.goto(`${server.url}/?view=capture&tenant=acme`);
    await page.locator('#key').fill(adminKey);
    await page.locator('button[type=submit]').click();
    await expect.poll(() => relayRow().count()).toBe(1);
    expect(await relayRow().locator('[data-backlog]').textContent()).toBe('3');
    expect(await relayRow().locator('[data-state]').textContent()).toContain('relaying');
    expect(await relayRow().locator('[data-lag]').textContent()).toMatch(/\d+ s ago/);
    expect(await relayRow().locator('[data-relayed]').textContent()).toBe('0');

    release();
    await holder;
    await expect.poll(() => relayRow().locator('[data-backlog]').textContent(), { timeout: 20_000 }).toBe('0');
    expect(await relayRow().locator('[data-lag]').textContent()).toContain('none waiting');
    expect(await relayRow().locator('[data-relayed]').textContent()).toBe('3');
    expect(await relayRow().locator('[data-throughput]').textContent()).toBe('3/min');
    expect(await relayRow().locator('[data-last-relayed]').textContent()).not.toContain('not yet');
    expect(await captured('acme')).toBe(3);
  });

  it("plans bob's changes: newest first, the one carol changed later in conflict, with the SQL and the plan JSON", async () => {
    const since = Date.now() - 1000;
    const [inserted] = await as('alice', (tx) => tx`insert into accounts (org_id, name, balance) values ('acme', 'Checking', 100) returning id`);
    const id = inserted!.id as number;
    await new Promise((r) => setTimeout(r, 50));
    await as('bob', (tx) => tx`update accounts set balance = 200, name = 'Main' where id = ${id}`);
    await new Promise((r) => setTimeout(r, 50));
    await as('bob', (tx) => tx`update accounts set settings = '{"tier": "gold"}' where id = ${id}`);
    await new Promise((r) => setTimeout(r, 50));
    await as('carol', (tx) => tx`update accounts set balance = 300 where id = ${id}`);
    await expect.poll(() => captured('acme'), { timeout: 20_000 }).toBe(7);
    const until = Date.now() + 60_000;

    // The inputs are in the view's time zone: the browser's.
    const local = (ms: number) => page.evaluate((t) => new Date(t - new Date(t).getTimezoneOffset() * 60_000).toISOString().slice(0, 19), ms);
    const form = capturePage().getByRole('form', { name: 'Plan a reversal' });
    await form.getByLabel('Actor id').fill('bob');
    await form.getByLabel(/^From/).fill(await local(since));
    await form.getByLabel(/^Until/).fill(await local(since - 60_000));
    await form.getByRole('button', { name: 'Plan' }).click();
    await expect.poll(() => form.getByLabel(/^Until/).getAttribute('aria-invalid')).toBe('true');
    expect(await capturePage().locator('[data-error-for="/until"]').textContent()).toContain('after since');

    await form.getByLabel(/^Until/).fill(await local(until));
    await form.getByRole('button', { name: 'Plan' }).click();
    const plan = capturePage().locator('[data-plan]');
    await expect.poll(() => plan.count()).toBe(1);
    expect(await plan.locator('[data-summary]').textContent()).toMatch(/3 steps: 2 clean, 1 in conflict/);
    const steps = plan.locator('tbody tr');
    const rows = await steps.allTextContents();
    expect(rows).toHaveLength(3);
    // Newest first: bob's settings change, then his balance and name change.
    expect(rows[0]).toMatch(/settings.*tier.*gold.*→.*\{\}.*clean/s);
    const balance = rows.findIndex((r) => r.includes('balance'));
    expect(rows[balance]).toMatch(/200.*→.*100.*conflict.*changed later by user:carol/s);
    expect(await steps.nth(balance).getAttribute('data-status')).toBe('conflict');
    expect(rows.find((r) => r.includes('name'))).toMatch(/Main.*→.*Checking.*clean/s);
    expect(await plan.locator('[data-sql]').textContent()).toMatch(/update/i);

    const [download] = await Promise.all([page.waitForEvent('download'), plan.getByRole('button', { name: 'Download plan JSON' }).click()]);
    const json = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
    expect(json).toMatchObject({ id: await plan.getAttribute('data-plan'), tenant: 'acme', actor: 'bob', summary: { steps: 3, clean: 2, conflicts: 1 } });
    const planned = await request(`${server.url}/v1/events?tenant=acme&action=reversal.planned`, adminKey);
    expect(planned.body.data.map((e: { targets: { id: string }[] }) => e.targets[0]?.id)).toContain(json.id);
  });

  it("follows the tenant chosen in the header: another tenant's backlog and relayed changes", async () => {
    await page.getByRole('combobox', { name: 'Tenant' }).selectOption('globex');
    await expect.poll(() => capturePage().locator('h2').textContent()).toBe('Database capture of globex');
    await expect.poll(() => relayRow().locator('[data-relayed]').textContent()).toBe('1');
    expect(await relayRow().locator('[data-backlog]').textContent()).toBe('0');
    expect(await capturePage().locator('[data-plan]').count()).toBe(0);
  });
});
