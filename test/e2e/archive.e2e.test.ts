/**
 * Issue 18 point 4, the console's Archive page in a real browser against a real `trailproof serve`
 * with a local archive: after a lifecycle run archived and purged a tenant's old events, the page
 * lists the segment (leaves, period, checkpoint, hash), downloads it as stored (same SHA-256) and
 * its events as JSON Lines, and shows a purged event by leaf index with its inclusion proof,
 * verified in the browser. Another tenant's page shows none of it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, consolePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const event = (actor: string, n: number) => ({ action: 'document.read', actor: { type: 'user', id: actor }, targets: [{ type: 'document', id: `doc-${n}` }] });

let db: TestDatabase;
let archiveDir: string;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let adminKey: string;
let indices: number[];
let segment: { from: number; to: number; sha256: string };

beforeAll(async () => {
  db = await createTestDatabase();
  archiveDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-archive-e2e-'));
  adminKey = randomAdminKey();
  server = await startServerProcess({
    env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_ARCHIVE_URL: `file://${archiveDir}`, LOG_LEVEL: 'warn' },
  });
  const api = (p: string, method = 'GET', body?: unknown) => request(`${server.url}${p}`, adminKey, method, body);
  for (const id of ['acme', 'globex']) expect((await api('/v1/tenants', 'POST', { id })).status).toBe(201);
  indices = await appendReceivedAgo(db.sql, 'acme', 20, [event('alice', 1), event('bob', 2), event('carol', 3), event('dave', 4)]);
  expect((await api('/v1/tenants/acme/retention', 'PUT', { days: 10 })).status).toBe(200);
  const started = await api('/v1/lifecycle/run', 'POST', { tenant: 'acme' });
  expect(started.status).toBe(202);
  const run = await api(`/v1/lifecycle/runs/${started.body.id}?wait=60`);
  expect(run.body).toMatchObject({ status: 'succeeded', tenants: [{ removed: 4 }] });
  [segment] = (await api('/v1/archive/segments?tenant=acme')).body.data;
  expect(segment).toMatchObject({ from: indices[0], to: indices[3]! + 1 });
  browser = await launchChromium();
  page = await consolePage(browser, { acceptDownloads: true });
  await page.goto(`${server.url}/?view=archive&tenant=acme`);
  await page.locator('#key').fill(adminKey);
  await page.locator('button[type=submit]').click();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await killStartedProcesses();
  await db?.drop();
  if (archiveDir) fs.rmSync(archiveDir, { recursive: true, force: true });
});

const archivePage = () => page.locator('tp-archive-page');

async function downloaded(button: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), archivePage().getByRole('button', { name: button }).click()]);
  return fs.readFileSync((await download.path())!);
}

describe("the console's Archive page", () => {
  it('lists the archived segment: its leaves, period, checkpoint and hash', async () => {
    const rows = archivePage().locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    const text = (await rows.first().textContent()) ?? '';
    expect(text).toMatch(new RegExp(`${segment.from}–${segment.to - 1}\\s*\\(4 events\\)`));
    expect(text).toContain(`tree size ${(await request(`${server.url}/v1/archive/segments?tenant=acme`, adminKey)).body.data[0].checkpoint_size}`);
    expect(text).toContain(segment.sha256.slice(0, 16));
    expect(await rows.first().locator('td').nth(1).textContent()).toMatch(/\d.*→.*\d/);
  });

  it('downloads the segment as stored and its events as JSON Lines', async () => {
    const bytes = await downloaded(`Download segment ${segment.from}–${segment.to - 1}`);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(segment.sha256);
    const lines = (await downloaded(`Export events ${segment.from}–${segment.to - 1}`))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event.actor.id)).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('shows a purged event by leaf index with its inclusion proof, verified in the browser', async () => {
    expect((await request(`${server.url}/v1/events?tenant=acme&actor=carol`, adminKey)).body.data).toEqual([]);
    await archivePage().getByLabel('Leaf index or event uid').fill(String(indices[2]));
    await archivePage().getByRole('button', { name: 'Show' }).click();
    const shown = archivePage().locator('[data-archived-event]');
    await expect.poll(() => shown.locator('[data-verify]').getAttribute('data-verify')).toBe('ok');
    expect(JSON.parse((await shown.locator('[data-event-json]').textContent()) ?? '')).toMatchObject({ actor: { id: 'carol' } });
    expect(await shown.locator('[data-proof]').textContent()).toMatch(new RegExp(`^c2sp\\.org/tlog-proof@v1\\n(extra .*\\n)?index ${indices[2]}\\n`));
    const viewed = await request(`${server.url}/v1/events?tenant=acme&action=audit_log.viewed`, adminKey);
    expect(viewed.body.data.map((e: { metadata: { view?: string } }) => e.metadata.view)).toContain('archived_event');
  });

  it('shows a purged event by its uid too', async () => {
    const exported = await request(`${server.url}/v1/archive/export?tenant=acme`, adminKey);
    const dave = exported.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.event.actor.id === 'dave');
    await archivePage().getByLabel('Leaf index or event uid').fill(dave.envelope.uid);
    await archivePage().getByRole('button', { name: 'Show' }).click();
    const shown = archivePage().locator('[data-archived-event]');
    await expect.poll(() => shown.locator('[data-verify]').getAttribute('data-verify')).toBe('ok');
    expect(JSON.parse((await shown.locator('[data-event-json]').textContent()) ?? '')).toMatchObject({ actor: { id: 'dave' } });
    expect(await shown.locator('dd').first().textContent()).toBe(String(indices[3]));
  });

  it("refuses an index no segment holds, with the API's message", async () => {
    await archivePage().getByLabel('Leaf index or event uid').fill('999');
    await archivePage().getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => archivePage().getByRole('alert').textContent()).toContain('NOT_FOUND');
    expect(await archivePage().locator('[data-archived-event]').count()).toBe(0);
  });

  it("follows the tenant chosen in the header: another tenant's archive is empty", async () => {
    await page.getByRole('combobox', { name: 'Tenant' }).selectOption('globex');
    await expect.poll(() => archivePage().locator('h2').textContent()).toBe('Archive of globex');
    await expect.poll(() => archivePage().locator('[data-no-segments]').count()).toBe(1);
    expect(await archivePage().locator('tbody tr').count()).toBe(0);
  });
});
