/**
 * Issue 4, acceptance 1 and 2: the console and the embeddable viewer in a real browser (Debian's
 * Chromium, driven by playwright-core) against a real `trailproof serve` process and PostgreSQL.
 * Signs in, filters by every field, scrolls past several pages, opens an event and sees it
 * verified, tampers with it in the database and sees the badge turn red, exports CSV, embeds the
 * viewer in a page of another origin with a viewer token, and is refused with expired or forged
 * tokens. On the Streams page (issue 5) creates a webhook destination to a real local receiver,
 * watches the events arrive, pauses, resumes, replays and deletes it. Saves the screenshots the
 * README links (docs/screenshots/).
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, consolePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../../src/stream/webhook.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort, killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const VIEWER_SECRET = `e2e-viewer-secret-${'s'.repeat(24)}`;
const ACTORS = [
  ['alice', 'Alice Adams'],
  ['bob', 'Bob Brown'],
  ['carol', 'Carol Chen'],
  ['dave', 'Dave Diaz'],
] as const;
const ACTIONS = ['user.login', 'document.read', 'document.updated', 'user.login_failed', 'role.granted'] as const;
const SEEDED = 650;

interface Seeded {
  uid: string;
  actor: string;
  action: string;
  target?: string;
  outcome: string;
  ip: string;
  q: boolean;
  at: number;
}

let db: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let page: Page;
let adminKey: string;
let embedServer: http.Server;
let embedUrl: string;
const acme: Seeded[] = [];
const globexUids: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  adminKey = randomAdminKey();
  server = await startServerProcess({
    env: {
      DATABASE_URL: db.url,
      TRAILPROOF_ADMIN_KEY: adminKey,
      TRAILPROOF_VIEWER_SECRET: VIEWER_SECRET,
      LOG_LEVEL: 'warn',
      // Streams: a failing receiver pauses its destination after 2 quick retries, so the test can watch it.
      TRAILPROOF_SECRET_KEY: `e2e-stream-secret-key-${'k'.repeat(24)}`,
      TRAILPROOF_STREAM_MAX_FAILURES: '2',
      TRAILPROOF_STREAM_RETRY_MAX_SECONDS: '1',
    },
  });
  for (const id of ['acme', 'globex']) expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id })).status).toBe(201);
  const now = Date.now();
  const events = Array.from({ length: SEEDED }, (_, i) => {
    const [actor, name] = ACTORS[i % 4]!;
    const action = ACTIONS[i % 5]!;
    const target = action.startsWith('document.') ? `doc-${i % 3}` : undefined;
    const ip = actor === 'alice' ? `10.0.0.${i % 200}` : `192.168.1.${i % 200}`;
    const q = i % 7 === 0;
    const at = now - (i * 2 + 1) * 60_000;
    return {
      seed: { uid: '', actor, action, ...(target ? { target } : {}), outcome: action === 'user.login_failed' ? 'failure' : 'success', ip, q, at } as Seeded,
      body: {
        tenant: 'acme',
        action,
        occurred_at: new Date(at).toISOString(),
        actor: { type: 'user', id: actor, name },
        targets: target ? [{ type: 'document', id: target, name: `Document ${target}` }] : [],
        outcome: action === 'user.login_failed' ? 'failure' : 'success',
        context: { ip, location: actor === 'alice' ? 'Lisbon, PT' : 'Oslo, NO', user_agent: 'e2e' },
        ...(action === 'document.updated'
          ? {
              changes: [
                { field: 'title', before: 'Q3 draft', after: 'Q3 final' },
                { field: 'owners', before: ['alice'], after: ['alice', 'bob'] },
              ],
            }
          : {}),
        ...(q ? { metadata: { note: 'quarterly budget review' } } : {}),
      },
    };
  });
  for (let i = 0; i < events.length; i += 500) {
    const res = await request(`${server.url}/v1/events`, adminKey, 'POST', { events: events.slice(i, i + 500).map((e) => e.body) });
    expect(res.status, res.text).toBeLessThan(300);
    (res.body.accepted as { uid: string }[]).forEach((a, j) => acme.push({ ...events[i + j]!.seed, uid: a.uid }));
  }
  const globex = await request(`${server.url}/v1/events`, adminKey, 'POST', {
    events: Array.from({ length: 12 }, (_, i) => ({
      tenant: 'globex',
      action: 'invoice.paid',
      occurred_at: new Date(now - i * 60_000).toISOString(),
      actor: { type: 'user', id: `g${i}` },
    })),
  });
  globexUids.push(...(globex.body.accepted as { uid: string }[]).map((a) => a.uid));

  browser = await launchChromium();
  page = await consolePage(browser, { acceptDownloads: true, colorScheme: 'light' });

  // The host page of the embedded viewer: another origin (its own port), loading embed.js from Trailproof.
  const port = await freePort();
  embedUrl = `http://127.0.0.1:${port}`;
  embedServer = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', embedUrl).searchParams.get('token') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Customer app</title>
      <style>body { font-family: sans-serif; margin: 24px; } trailproof-viewer { --tp-accent: #7b2cbf; --tp-height: 640px; }</style></head>
      <body><h1>Acme SaaS — Security log</h1>
      <script src="${server.url}/embed.js"></script>
      <trailproof-viewer token="${token.replace(/"/g, '')}"></trailproof-viewer></body></html>`);
  });
  await new Promise<void>((resolve) => embedServer.listen(port, '127.0.0.1', resolve));
  fs.mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => embedServer?.close(resolve));
  await server?.stop('SIGTERM').catch(() => {});
  await killStartedProcesses();
  await db?.drop();
});

interface Row {
  uid: string;
  tenant: string;
  actor: string;
  action: string;
  targets: string[];
  outcome: string;
  ip: string;
  occurred_at: string;
}

/** The rows the table holds, and whether the view is idle; `host` selects console or viewer. */
async function view(
  host: 'tp-console' | 'trailproof-viewer' = 'tp-console',
): Promise<{ rows: Row[]; loading: boolean; total: number | undefined; hasMore: boolean }> {
  return page.evaluate((hostTag) => {
    const events = document.querySelector(hostTag)!.shadowRoot!.querySelector('tp-events') as unknown as {
      shadowRoot: ShadowRoot;
      loading: boolean;
      histogram?: { total: number };
      cursor: string | null;
    };
    const table = events.shadowRoot.querySelector('tp-event-table') as unknown as {
      rows: {
        uid: string;
        tenant: string;
        actor: { id: string };
        action: string;
        targets: { type: string; id: string }[];
        outcome: string;
        context: { ip?: string };
        occurred_at: string;
      }[];
    };
    return {
      rows: table.rows.map((r) => ({
        uid: r.uid,
        tenant: r.tenant,
        actor: r.actor.id,
        action: r.action,
        targets: r.targets.map((t) => `${t.type}:${t.id}`),
        outcome: r.outcome,
        ip: r.context.ip ?? '',
        occurred_at: r.occurred_at,
      })),
      loading: events.loading,
      total: events.histogram?.total,
      hasMore: events.cursor !== null,
    };
  }, host);
}

/** Waits until the first page and the histogram of the current filter have arrived. */
async function settled(host: 'tp-console' | 'trailproof-viewer' = 'tp-console') {
  await page.waitForFunction(
    (hostTag) => {
      const events = document.querySelector(hostTag)?.shadowRoot?.querySelector('tp-events') as unknown as { loading: boolean; histogram?: unknown } | null;
      return events && !events.loading && events.histogram !== undefined;
    },
    host,
    { timeout: 15_000 },
  );
  return view(host);
}

async function applyFilter(fields: Record<string, string>) {
  for (const name of ['actor', 'action', 'target_type', 'target_id', 'ip', 'q']) await page.locator(`tp-events input[name=${name}]`).fill(fields[name] ?? '');
  await page.locator('tp-events select[name=outcome]').selectOption(fields.outcome ?? '');
  await page.locator('tp-events select[name=range]').selectOption(fields.range ?? '24h');
  await page.locator('tp-events select[name=kind]').selectOption(fields.kind ?? 'activity');
  await page.locator('tp-events input[name=actor]').press('Enter');
  return settled();
}

describe('console', () => {
  it("signs in with an admin key kept out of the URL, and shows the tenant's events with a histogram", async () => {
    await page.goto(`${server.url}/?tenant=acme`);
    await page.locator('#key').fill(adminKey);
    await page.locator('button[type=submit]').click();
    const { rows, total } = await settled();
    expect(rows.length).toBe(200);
    expect(total).toBeGreaterThanOrEqual(SEEDED);
    expect(page.url()).not.toContain(adminKey);
    expect(await page.evaluate(() => sessionStorage.getItem('trailproof.key'))).toBe(adminKey);
    await page.screenshot({ path: path.join(SHOTS, 'console-events.png') });
  });

  const cases: [string, Record<string, string>, (s: Seeded) => boolean, (r: Row) => boolean][] = [
    ['actor', { actor: 'alice' }, (s) => s.actor === 'alice', (r) => r.actor === 'alice'],
    ['action prefix', { action: 'user.*' }, (s) => s.action.startsWith('user.'), (r) => r.action.startsWith('user.')],
    ['exact action', { action: 'role.granted' }, (s) => s.action === 'role.granted', (r) => r.action === 'role.granted'],
    ['target', { target_type: 'document', target_id: 'doc-1' }, (s) => s.target === 'doc-1', (r) => r.targets.includes('document:doc-1')],
    ['outcome', { outcome: 'failure' }, (s) => s.outcome === 'failure', (r) => r.outcome === 'failure'],
    ['ip range', { ip: '10.0.0.0/8' }, (s) => s.ip.startsWith('10.'), (r) => r.ip.startsWith('10.')],
    ['free text', { q: 'budget' }, (s) => s.q, () => true],
  ];
  it.each(cases)('filters by %s, reflected in the URL', async (_, fields, seeded, shown) => {
    const view = await applyFilter(fields);
    const expected = acme.filter(seeded);
    // The default view is the activity: the trail's own records of earlier searches (audit_log.viewed,
    // which keeps the filter in its metadata, so free text would find them) are in the access log.
    const { rows } = view;
    expect(view.total).toBe(expected.length);
    expect(rows.length).toBe(Math.min(200, expected.length));
    expect(rows.every(shown)).toBe(true);
    if (expected.length <= 200) expect(new Set(rows.map((r) => r.uid))).toEqual(new Set(expected.map((s) => s.uid)));
    const url = new URL(page.url());
    for (const [k, v] of Object.entries(fields)) expect(url.searchParams.get(k)).toBe(v);
  });

  it('filters by a time range preset', async () => {
    const { rows } = await applyFilter({ actor: 'bob', range: '1h' });
    const hourAgo = Date.now() - 3600_000;
    const expected = acme.filter((s) => s.actor === 'bob' && s.at >= hourAgo);
    expect(rows.every((r) => Date.parse(r.occurred_at) >= hourAgo - 60_000)).toBe(true);
    expect(Math.abs(rows.length - expected.length)).toBeLessThanOrEqual(1);
    expect(new URL(page.url()).searchParams.get('range')).toBe('1h');
  });

  it('a shared URL opens the same view', async () => {
    const shared = page.url();
    const other = await browser.newPage();
    await other.goto(shared);
    await other.evaluate((key) => sessionStorage.setItem('trailproof.key', key), adminKey);
    await other.goto(shared);
    await expect.poll(() => other.locator('tp-events input[name=actor]').inputValue()).toBe('bob');
    await other.close();
  });

  it('loads pages by cursor while scrolling, each event once, newest first', async () => {
    await applyFilter({});
    for (let i = 0; i < 40; i++) {
      const v = await view();
      if (!v.hasMore && !v.loading) break;
      await page.locator('tp-event-table .viewport').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(150);
    }
    const { rows, hasMore } = await view();
    expect(hasMore).toBe(false);
    expect(rows.length).toBeGreaterThan(600);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
    const uids = new Set(rows.map((r) => r.uid));
    expect(acme.every((s) => uids.has(s.uid))).toBe(true);
    const times = rows.map((r) => Date.parse(r.occurred_at));
    expect(times.every((t, i) => i === 0 || t <= times[i - 1]!)).toBe(true);
    // Virtualised: the DOM holds a screenful of rows, not hundreds.
    expect(await page.locator('tp-event-table .row').count()).toBeLessThan(80);
  });

  let opened: Seeded;
  it('opens an event: all fields, the changes diff, and "verified at checkpoint N"', async () => {
    await applyFilter({ action: 'document.updated' });
    await page.locator('tp-event-table .row').nth(1).click();
    const badge = page.locator('tp-event-drawer [data-verify]');
    await expect.poll(() => badge.getAttribute('data-verify'), { timeout: 15_000 }).toBe('ok');
    expect(await badge.textContent()).toMatch(/Verified against the checkpoint of tree size [\d,]+/);
    expect(await page.locator('tp-event-drawer table.diff').textContent()).toContain('Q3 final');
    const uid = (await view()).rows[1]!.uid;
    opened = acme.find((s) => s.uid === uid)!;
    expect(await page.locator('tp-event-drawer dl').textContent()).toContain(uid);
    await page.screenshot({ path: path.join(SHOTS, 'console-drawer-verified.png') });
  });

  it("marks the service's own records with a Trailproof badge, and nothing else", async () => {
    await page.keyboard.press('Escape');
    // The console's own searches are recorded as audit_log.viewed: service records.
    const service = await applyFilter({ action: 'audit_log.*', kind: 'access' });
    expect(service.rows.length).toBeGreaterThan(0);
    expect(await page.locator('tp-event-table .row [data-service-record]').count()).toBe(await page.locator('tp-event-table .row').count());
    await page.locator('tp-event-table .row').first().click();
    expect(await page.locator('tp-event-drawer h2 [data-service-record]').textContent()).toBe('Trailproof');
    expect(await page.locator('tp-event-drawer dl').textContent()).toContain('Trailproof itself');
    await page.screenshot({ path: path.join(SHOTS, 'console-service-record.png') });
    await page.keyboard.press('Escape');
    await applyFilter({ action: 'document.updated' });
    expect(await page.locator('tp-event-table .row').count()).toBeGreaterThan(0);
    expect(await page.locator('tp-event-table .row [data-service-record]').count()).toBe(0);
  });

  it('turns the badge red, naming the commitment, after the event is changed in the database', async () => {
    await db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update events set body = jsonb_set(body, '{changes,0,after}', '"Q3 final (edited)"') where uid = ${opened.uid}`;
    });
    await page.keyboard.press('Escape');
    await page.locator('tp-event-table .row').nth(1).click();
    const badge = page.locator('tp-event-drawer [data-verify]');
    await expect.poll(() => badge.getAttribute('data-verify'), { timeout: 15_000 }).toBe('failed');
    expect(await badge.textContent()).toMatch(/commitment/);
    await page.screenshot({ path: path.join(SHOTS, 'console-drawer-tampered.png') });
    await page.keyboard.press('Escape');
  });

  it('"verify this view" checks every loaded event and reports the tampered one', async () => {
    await page.getByRole('button', { name: 'Verify this view' }).click();
    const status = page.locator('tp-events [data-view-status]');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/[✓✗]/);
    const expected = acme.filter((s) => s.action === 'document.updated').length;
    expect(await status.textContent()).toContain(`1 of ${expected} loaded events failed`);
  });

  it('exports the current filter as CSV, streamed, with exactly its rows', async () => {
    await applyFilter({ actor: 'carol', action: 'document.*' });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export=csv]').click()]);
    const records = parse(fs.readFileSync((await download.path())!, 'utf8'), { columns: true }) as { uid: string; actor_id: string; action: string }[];
    const expected = acme.filter((s) => s.actor === 'carol' && s.action.startsWith('document.'));
    expect(records.length).toBe(expected.length);
    expect(new Set(records.map((r) => r.uid))).toEqual(new Set(expected.map((s) => s.uid)));
    expect(records.every((r) => r.actor_id === 'carol' && r.action.startsWith('document.'))).toBe(true);
    expect(await page.locator('tp-events [data-export-status]').textContent()).toMatch(/Exported/);
  });

  it('is usable from the keyboard: arrows move through rows, Enter opens, Escape closes', async () => {
    await applyFilter({ actor: 'alice' });
    await page.locator('tp-event-table .viewport').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const uid = (await view()).rows[1]!.uid;
    await expect.poll(() => page.locator('tp-event-drawer dl').textContent()).toContain(uid);
    await page.keyboard.press('Escape');
    expect(await page.locator('tp-event-drawer').count()).toBe(0);
    // Every input and select of the filter bar has a label.
    const unlabelled = await page
      .locator('tp-events form')
      .evaluate((form) => [...form.querySelectorAll('input, select')].filter((el) => !el.closest('label')).length);
    expect(unlabelled).toBe(0);
  });

  it('operator pages: creates a key shown once, revokes it, shows ledger status', async () => {
    await page.goto(`${server.url}/?view=keys&tenant=acme`);
    await page.locator('tp-keys-page input[name=name]').fill('e2e reader');
    await page.locator('tp-keys-page input[name=tenant]').fill('acme');
    await page.locator('tp-keys-page button[type=submit]').click();
    const secret = (await page.locator('tp-keys-page [data-new-key]').textContent())!.trim();
    expect(secret).toMatch(/^tpk_/);
    expect((await request(`${server.url}/v1/events?limit=1`, secret)).status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke key e2e reader' }).click();
    await expect.poll(async () => (await request(`${server.url}/v1/events?limit=1`, secret)).status, { timeout: 10_000 }).toBe(401);
    await page.getByRole('link', { name: 'Ledger' }).click();
    await expect.poll(() => page.locator('tp-ledger-page dl').textContent()).toMatch(/Tree size\s*[\d,]+ events/);
    await page.getByRole('link', { name: 'Events' }).click();
    await settled();
  });

  it('alerts page: rules, their firings and saved searches; an admin disables a rule, audited', async () => {
    const search = await request(`${server.url}/v1/saved-searches`, adminKey, 'POST', { tenant: 'acme', name: 'e2e failures', filter: { outcome: 'failure' } });
    expect(search.status, search.text).toBe(201);
    const rule = await request(`${server.url}/v1/alert-rules`, adminKey, 'POST', {
      tenant: 'acme',
      name: 'e2e alarm',
      kind: 'threshold',
      filter: { action: 'alarm.raised' },
      params: { count: 1, window_seconds: 60, group_by: 'actor' },
    });
    expect(rule.status, rule.text).toBe(201);
    await request(`${server.url}/v1/events`, adminKey, 'POST', { tenant: 'acme', action: 'alarm.raised', actor: { type: 'user', id: 'alice' } });
    await expect
      .poll(async () => (await request(`${server.url}/v1/alert-firings?tenant=acme`, adminKey)).body.data.length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.goto(`${server.url}/?view=alerts&tenant=acme`);
    const row = page.locator(`tp-alerts-page tr[data-rule="${rule.body.id}"]`);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('e2e alarm');
    expect(await row.textContent()).toContain('count=1');
    await expect.poll(() => page.locator('tp-alerts-page tr[data-firing]').first().textContent()).toContain('alice');
    expect(await page.locator('tp-alerts-page a', { hasText: 'e2e failures' }).getAttribute('href')).toContain('outcome=failure');
    await row.getByRole('button', { name: 'Enabled' }).click();
    await expect.poll(() => row.getByRole('button').textContent()).toBe('Disabled');
    expect((await request(`${server.url}/v1/alert-rules/${rule.body.id}`, adminKey)).body.enabled).toBe(false);
    const changes = await request(`${server.url}/v1/events?tenant=acme&action=alert_rule.updated`, adminKey);
    expect(changes.body.data).toHaveLength(1);
    await page.goto(`${server.url}/?tenant=acme`);
    await settled();
  });

  it('stats page: top actors by failed logins, and who accessed a target by day, as the seeded events count', async () => {
    const rows = (section: string) =>
      page
        .locator(`tp-stats-page section[aria-labelledby=${section}] tr[data-group]`)
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent!.trim())));
    const totals = async (section: string) => ({
      events: await page.locator(`tp-stats-page section[aria-labelledby=${section}] [data-total-events]`).textContent(),
      actors: await page.locator(`tp-stats-page section[aria-labelledby=${section}] [data-total-actors]`).textContent(),
    });
    /** Groups as the API orders them (events descending, then key; days in time order) with distinct actors. */
    const grouped = (events: Seeded[], keyOf: (e: Seeded) => string, byTime = false) => {
      const groups = new Map<string, { events: number; actors: Set<string> }>();
      for (const e of events) {
        const g = groups.get(keyOf(e)) ?? { events: 0, actors: new Set<string>() };
        g.events++;
        g.actors.add(e.actor);
        groups.set(keyOf(e), g);
      }
      return [...groups]
        .sort(([a, x], [b, y]) => (byTime ? a.localeCompare(b) : y.events - x.events || a.localeCompare(b)))
        .map(([k, g]) => [k, String(g.events), String(g.actors.size)]);
    };

    // As a read key bound to acme; the admin key of the other tests comes back at the end.
    const readKey = (await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'e2e stats', scope: 'read', tenant: 'acme' })).body.secret as string;
    await page.goto(`${server.url}/`);
    await page.evaluate((key) => sessionStorage.setItem('trailproof.key', key), readKey);
    await page.goto(`${server.url}/?view=stats`);
    const failed = acme.filter((e) => e.action === 'user.login_failed');
    await expect.poll(() => rows('failed-h'), { timeout: 10_000 }).toEqual(grouped(failed, (e) => e.actor));
    expect(await totals('failed-h')).toEqual({ events: String(failed.length), actors: String(new Set(failed.map((e) => e.actor)).size) });

    // Who accessed doc-0, by day, over two years: one question in the Aggregate panel.
    const form = page.locator('tp-stats-page form');
    await form.locator('select[name=group_by]').selectOption('day');
    await form.locator('input[name=target_type]').fill('document');
    await form.locator('input[name=target_id]').fill('doc-0');
    await form.locator('select[name=range]').selectOption('2y');
    await form.getByRole('button', { name: 'Count' }).click();
    const doc0 = acme.filter((e) => e.target === 'doc-0');
    const byDay = grouped(doc0, (e) => new Date(e.at).toISOString().slice(0, 10), true);
    await expect.poll(() => rows('aggregate-h'), { timeout: 10_000 }).toEqual(byDay);
    expect(await totals('aggregate-h')).toEqual({ events: String(doc0.length), actors: String(new Set(doc0.map((e) => e.actor)).size) });
    await page.screenshot({ path: path.join(SHOTS, 'console-stats.png') });
    expect(page.url()).toContain('group_by=day');
    expect(page.url()).toContain('target_id=doc-0');

    // The URL shares the question; a day opens its events.
    await page.reload();
    await expect.poll(() => rows('aggregate-h'), { timeout: 10_000 }).toEqual(byDay);
    await page.locator(`tp-stats-page section[aria-labelledby=aggregate-h] tr[data-group="${byDay[0]![0]}"] a`).click();
    const opened = await settled();
    expect(opened.rows.map((r) => r.uid).sort()).toEqual(
      doc0
        .filter((e) => new Date(e.at).toISOString().startsWith(byDay[0]![0]!))
        .map((e) => e.uid)
        .sort(),
    );
    await page.evaluate((key) => sessionStorage.setItem('trailproof.key', key), adminKey);
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByRole('link', { name: 'Streams' }).count(), { timeout: 10_000 }).toBe(1);
  });

  it('works at phone width and in the dark theme', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Switch light/dark theme' }).click();
    await applyFilter({});
    expect(await page.locator('tp-console').getAttribute('theme')).toBe('dark');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SHOTS, 'console-phone-dark.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

describe('streams page', () => {
  const SECRET = 'e2e-webhook-signing-secret-0123456789';
  let receiver: HttpReceiver;
  const pageOf = () => page.locator('tp-streams-page');
  const card = () => page.locator('tp-streams-page li[data-stream]');
  /** The uids of the e2e.* events the receiver acknowledged, in arrival order (repeats included). */
  const delivered = () =>
    receiver.accepted
      .flatMap((r) => (JSON.parse(r.body.toString()) as { events: { uid: string; action: string }[] }).events)
      .filter((e) => e.action.startsWith('e2e.'))
      .map((e) => e.uid);
  const ping = async (count: number) => {
    const res = await request(`${server.url}/v1/events`, adminKey, 'POST', {
      events: Array.from({ length: count }, (_, i) => ({ tenant: 'acme', action: 'e2e.ping', actor: { type: 'service', id: `pinger-${i}` } })),
    });
    expect(res.status, res.text).toBeLessThan(300);
    return (res.body.accepted as { uid: string }[]).map((a) => a.uid);
  };
  const streamActions = async () =>
    (await request(`${server.url}/v1/events?tenant=acme&action=stream.*&sort=asc&limit=100`, adminKey)).body.data as {
      action: string;
      actor: { type: string };
    }[];
  let startedAt: number;
  const sent: string[] = [];

  beforeAll(async () => {
    receiver = await startHttpReceiver();
    startedAt = Date.now();
  });
  afterAll(() => receiver?.close());

  it('is a console page with every control labelled, empty at first', async () => {
    await page.getByRole('button', { name: 'Switch light/dark theme' }).click(); // back to light (the phone test chose dark)
    await page.getByRole('link', { name: 'Streams' }).click();
    await expect.poll(() => page.locator('tp-streams-page [data-empty]').count(), { timeout: 10_000 }).toBe(1);
    expect(new URL(page.url()).searchParams.get('view')).toBe('streams');
    const unlabelled = await pageOf().evaluate(
      (el) =>
        [...el.shadowRoot!.querySelectorAll('input, select, textarea')].filter(
          (c) =>
            !c.closest('label') && !(c.id && c.getRootNode() instanceof ShadowRoot && (c.getRootNode() as ShadowRoot).querySelector(`label[for="${c.id}"]`)),
        ).length,
    );
    expect(unlabelled).toBe(0);
    // The settings follow the kind: syslog takes a host and port and no secret.
    await page.locator('tp-streams-page select[name=kind]').selectOption('syslog');
    expect(await page.locator('tp-streams-page input[name="config.port"]').count()).toBe(1);
    expect(await page.locator('tp-streams-page input[name=secret]').count()).toBe(0);
    expect(await page.locator('tp-streams-page select[name=format] option').allTextContents()).toEqual(['syslog', 'cef']);
    await page.locator('tp-streams-page select[name=kind]').selectOption('webhook');
    expect(await page.locator('tp-streams-page input[name=secret]').getAttribute('type')).toBe('password');
  });

  it("shows the API's error beside the URL field, and creates nothing", async () => {
    await page.locator('tp-streams-page input[name=name]').fill('siem');
    await page.locator('tp-streams-page select[name=kind]').selectOption('webhook');
    await page.locator('tp-streams-page input[name="config.url"]').fill('ftp://127.0.0.1/hook');
    await page.locator('tp-streams-page input[name=secret]').fill(SECRET);
    await page.getByRole('button', { name: 'Create stream' }).click();
    const error = page.locator('tp-streams-page [data-error-for="/config/url"]');
    await expect.poll(() => error.textContent(), { timeout: 10_000 }).toMatch(/https:\/\//);
    expect(await page.locator('tp-streams-page input[name="config.url"]').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('tp-streams-page input[name="config.url"]').getAttribute('aria-describedby')).toBe(await error.getAttribute('id'));
    expect((await request(`${server.url}/v1/streams?tenant=acme`, adminKey)).body.data).toEqual([]);
  });

  it('creates a webhook destination whose status shows the events delivered to a real receiver; the secret is never shown', async () => {
    await page.locator('tp-streams-page input[name="config.url"]').fill(`${receiver.url}/hook`);
    await page.locator('tp-streams-page input[name=secret]').fill(SECRET);
    await page.locator('tp-streams-page input[name=actions]').fill('e2e.*');
    await page.getByRole('button', { name: 'Create stream' }).click();
    await expect.poll(() => card().count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('tp-streams-page [data-error-for]').count()).toBe(0);
    expect(await page.locator('tp-streams-page input[name=secret]').inputValue()).toBe('');
    sent.push(...(await ping(3)));
    await expect.poll(delivered, { timeout: 15_000 }).toEqual(sent);
    // Signed with the secret typed into the form.
    const hook = receiver.accepted.at(-1)!;
    expect(hook.headers[SIGNATURE_HEADER]).toBe(`v1=${webhookSignature(SECRET, String(hook.headers[TIMESTAMP_HEADER]), hook.body)}`);
    // The page's periodic refresh shows the delivery: lag 0, a last success.
    await expect.poll(() => card().getAttribute('data-state')).toBe('active');
    await expect.poll(() => page.locator('tp-streams-page [data-lag]').getAttribute('data-lag'), { timeout: 15_000 }).toBe('0');
    await expect.poll(() => page.locator('tp-streams-page [data-last-success]').getAttribute('data-last-success'), { timeout: 15_000 }).not.toBe('');
    const text = (await card().textContent())!;
    expect(text).toContain('webhook · jsonl');
    expect(text).toContain('(secret set)');
    expect(text).toContain('e2e.*');
    expect(await pageOf().evaluate((el) => el.shadowRoot!.innerHTML)).not.toContain(SECRET);
    await page.screenshot({ path: path.join(SHOTS, 'console-streams.png'), fullPage: true });
  });

  it('pauses from the keyboard: the state changes and nothing is delivered until it resumes', async () => {
    await page.getByRole('button', { name: 'Pause stream siem' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => card().getAttribute('data-state'), { timeout: 10_000 }).toBe('paused');
    expect(await page.locator('tp-streams-page [data-paused]').textContent()).toContain('paused by an operator');
    const held = await ping(2);
    await expect.poll(() => page.locator('tp-streams-page [data-lag]').getAttribute('data-lag'), { timeout: 15_000 }).toMatch(/^[2-9]$/);
    expect(delivered()).toEqual(sent);
    await page.getByRole('button', { name: 'Resume stream siem' }).click();
    await expect.poll(() => card().getAttribute('data-state'), { timeout: 10_000 }).toBe('active');
    sent.push(...held);
    await expect.poll(delivered, { timeout: 15_000 }).toEqual(sent);
    expect((await streamActions()).map((e) => e.action)).toEqual(['stream.created', 'stream.paused', 'stream.resumed']);
  });

  it('a failing receiver pauses the destination, with its last error in view; resume delivers what was held', async () => {
    receiver.mode = 'fail';
    const held = await ping(1);
    await expect.poll(() => card().getAttribute('data-state'), { timeout: 20_000 }).toBe('paused');
    expect(await page.locator('tp-streams-page [data-paused]').textContent()).toMatch(/consecutive failed deliveries[\s\S]*Last error.*HTTP 500/);
    receiver.mode = 'ok';
    await page.getByRole('button', { name: 'Resume stream siem' }).click();
    sent.push(...held);
    await expect.poll(delivered, { timeout: 15_000 }).toEqual(sent);
    await expect.poll(() => page.locator('tp-streams-page [data-lag]').getAttribute('data-lag'), { timeout: 15_000 }).toBe('0');
  });

  it('replays from a chosen time: every event since is delivered again, in order', async () => {
    const from = new Date(startedAt - 60_000);
    const local = new Date(from.getTime() - from.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.locator('tp-streams-page input[name=since]').first().fill(local);
    await page.getByRole('button', { name: 'Replay stream siem from that time' }).click();
    await expect.poll(delivered, { timeout: 15_000 }).toEqual([...sent, ...sent]);
    const replayed = (await request(`${server.url}/v1/events?tenant=acme&action=stream.replayed&limit=1`, adminKey)).body.data[0] as {
      metadata: { since: string };
    };
    expect(Date.parse(replayed.metadata.since)).toBe(Date.parse(`${local}:00`));
  });

  it('fits a phone screen in the dark theme', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Switch light/dark theme' }).click();
    expect(await page.locator('tp-console').getAttribute('theme')).toBe('dark');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const widest = await pageOf().evaluate((el) => Math.max(...[...el.shadowRoot!.querySelectorAll('*')].map((c) => c.getBoundingClientRect().right)));
    expect(widest).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('deletes after confirmation, audited', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete stream siem' }).click();
    await expect.poll(() => card().count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator('tp-streams-page [data-empty]').count()).toBe(1);
    expect((await request(`${server.url}/v1/streams?tenant=acme`, adminKey)).body.data).toEqual([]);
    const actions = (await streamActions()).map((e) => e.action);
    expect(actions.at(-1)).toBe('stream.deleted');
    expect(actions).toContain('stream.replayed');
  });
});

describe('embedded viewer', () => {
  const mint = async (body: Record<string, unknown>) => {
    const res = await request(`${server.url}/v1/viewer-tokens`, adminKey, 'POST', body);
    expect(res.status, res.text).toBe(201);
    return res.body.token as string;
  };

  it('on another origin, with a viewer token, sees exactly its one tenant', async () => {
    await page.goto(`${embedUrl}/?token=${encodeURIComponent(await mint({ tenant: 'globex' }))}`);
    const { rows } = await settled('trailproof-viewer');
    expect(new Set(rows.map((r) => r.tenant))).toEqual(new Set(['globex']));
    const uids = new Set(rows.map((r) => r.uid));
    expect(globexUids.every((u) => uids.has(u))).toBe(true);
    expect(rows.some((r) => acme.some((s) => s.uid === r.uid))).toBe(false);
    await page.locator('trailproof-viewer tp-event-table .row', { hasText: 'invoice.paid' }).first().click();
    await expect.poll(() => page.locator('trailproof-viewer [data-verify]').getAttribute('data-verify'), { timeout: 15_000 }).toBe('ok');
    await page.keyboard.press('Escape');
    await page.screenshot({ path: path.join(SHOTS, 'embedded-viewer.png') });
    const sessions = await db.sql`select count(*)::int as n from events where tenant_id = 'globex' and action = 'viewer.session_started'`;
    expect(sessions[0]!.n).toBe(1);
  });

  it('narrowed to an action prefix, shows only those actions', async () => {
    await page.goto(`${embedUrl}/?token=${encodeURIComponent(await mint({ tenant: 'acme', actions: ['role.*'] }))}`);
    const { rows, total } = await settled('trailproof-viewer');
    expect(total).toBe(acme.filter((s) => s.action === 'role.granted').length);
    expect(rows.every((r) => r.action === 'role.granted')).toBe(true);
  });

  it("minted with alerts, shows its tenant's alert firings and no other tenant's; without, no Alerts tab", async () => {
    for (const tenant of ['globex', 'acme']) {
      const rule = await request(`${server.url}/v1/alert-rules`, adminKey, 'POST', {
        tenant,
        name: `${tenant} viewer alarm`,
        kind: 'threshold',
        filter: { action: 'door.alarm' },
        params: { count: 1, window_seconds: 60, group_by: 'actor' },
      });
      expect(rule.status, rule.text).toBe(201);
      const ingested = await request(`${server.url}/v1/events`, adminKey, 'POST', {
        tenant,
        action: 'door.alarm',
        actor: { type: 'user', id: `${tenant}-user` },
      });
      expect(ingested.status, ingested.text).toBeLessThan(300);
    }
    await expect
      .poll(async () => (await request(`${server.url}/v1/alert-firings?tenant=globex`, adminKey)).body.data.length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    await page.goto(`${embedUrl}/?token=${encodeURIComponent(await mint({ tenant: 'globex', alerts: true }))}`);
    await settled('trailproof-viewer');
    await page.locator('trailproof-viewer').getByRole('button', { name: 'Alerts' }).click();
    const firings = page.locator('trailproof-viewer tr[data-firing]');
    await expect.poll(() => firings.allTextContents(), { timeout: 10_000 }).toEqual([expect.stringContaining('globex viewer alarm')]);
    expect((await firings.allTextContents()).join()).toContain('globex-user');
    await page.locator('trailproof-viewer').getByRole('button', { name: 'Events' }).click();
    await settled('trailproof-viewer');

    await page.goto(`${embedUrl}/?token=${encodeURIComponent(await mint({ tenant: 'globex' }))}`);
    await settled('trailproof-viewer');
    expect(await page.locator('trailproof-viewer').getByRole('button', { name: 'Alerts' }).count()).toBe(0);
  });

  it('refuses an expired token and a forged one', async () => {
    const token = await mint({ tenant: 'globex' });
    const [payload] = token.slice(4).split('.') as [string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const sign = (c: unknown, secret: string) => {
      const p = Buffer.from(JSON.stringify(c)).toString('base64url');
      return `tpv_${p}.${createHmac('sha256', secret).update(`trailproof viewer token v1\n${p}`).digest('base64url')}`;
    };
    const cases = [
      [sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 5 }, VIEWER_SECRET), /expired/i],
      [sign({ ...claims, t: 'acme' }, 'an-attacker-guess-of-the-secret-0123456789'), /VIEWER_TOKEN_INVALID/],
    ] as const;
    for (const [bad, message] of cases) {
      await page.goto(`${embedUrl}/?token=${encodeURIComponent(bad)}`);
      const error = page.locator('trailproof-viewer [data-viewer-error]');
      await expect.poll(() => error.textContent(), { timeout: 10_000 }).toMatch(message);
      expect(await page.locator('trailproof-viewer tp-event-table').count()).toBe(0);
    }
  });
});
