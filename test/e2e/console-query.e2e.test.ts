/**
 * Issue 15 in the console, in Debian's Chromium against a real `trailproof serve` process: the
 * access log apart from the activity (point 6), the empty result's hint (point 5), several
 * actions, exclusions, "has changes" and relative times (point 7), and the small things of point
 * 11: the self-audit as a status, checkpoints named by tree size, one time zone per view with a
 * UTC toggle, and a confirmation before the signed-in key revokes itself.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, runCli, startServerProcess, TEST_LEDGER_KEY, type ServerProcess } from '../helpers/server-process.ts';

const ZONE = 'America/New_York';
/** The activity of tenant acme: [action, has changes], one every 10 minutes back from now. */
const SEED: [string, boolean][] = [
  ['user.login', false],
  ['document.updated', true],
  ['document.read', false],
  ['member.role_changed', true],
  ['api.called', false],
  ['document.created', true],
  ['user.login', false],
  ['document.read', false],
  ['document.updated', true],
  ['api.called', false],
  ['member.role_changed', true],
  ['user.logout', false],
];

let db: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const adminKey = randomAdminKey();
const seeded: { uid: string; action: string; changes: boolean; at: number }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });
  for (const id of ['acme', 'quiet']) expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id })).status).toBe(201);
  const now = Date.now();
  const events = SEED.map(([action, changes], i) => ({
    tenant: 'acme',
    action,
    occurred_at: new Date(now - (i * 10 + 1) * 60_000).toISOString(),
    actor: { type: 'user', id: `u${i % 3}` },
    ...(changes ? { changes: [{ field: 'title', before: 'a', after: 'b' }] } : {}),
  }));
  const res = await request(`${server.url}/v1/events`, adminKey, 'POST', { events });
  expect(res.status, res.text).toBeLessThan(300);
  (res.body.accepted as { uid: string }[]).forEach((a, i) =>
    seeded.push({ uid: a.uid, action: SEED[i]![0], changes: SEED[i]![1], at: Date.parse(events[i]!.occurred_at) }),
  );
  // Tenant quiet's only event is ten days old: its default view of the last 24 hours is empty.
  const old = await request(`${server.url}/v1/events`, adminKey, 'POST', {
    tenant: 'quiet',
    action: 'invoice.paid',
    occurred_at: new Date(now - 10 * 86_400_000).toISOString(),
    actor: { type: 'user', id: 'q' },
  });
  expect(old.status, old.text).toBeLessThan(300);

  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: ZONE, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await signIn(page, adminKey, '?tenant=acme');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop('SIGTERM').catch(() => {});
  await killStartedProcesses();
  await db?.drop();
});

async function signIn(p: Page, key: string, search: string): Promise<void> {
  await p.goto(`${server.url}/${search}`);
  await p.locator('#key').fill(key);
  await p.locator('button[type=submit]').click();
  await p.locator('tp-console nav').waitFor();
}

interface View {
  rows: { uid: string; action: string; changes: boolean; occurred_at: string }[];
  total: number;
  newest: string | null | undefined;
}

/** The events view once its first page and histogram have arrived. */
async function settled(): Promise<View> {
  await page.waitForFunction(
    () => {
      const events = document.querySelector('tp-console')?.shadowRoot?.querySelector('tp-events') as unknown as {
        loading: boolean;
        histogram?: unknown;
      } | null;
      return events && !events.loading && events.histogram !== undefined;
    },
    undefined,
    { timeout: 15_000 },
  );
  return page.evaluate(() => {
    const events = document.querySelector('tp-console')!.shadowRoot!.querySelector('tp-events') as unknown as {
      shadowRoot: ShadowRoot;
      histogram: { total: number; newest?: string | null };
    };
    const table = events.shadowRoot.querySelector('tp-event-table') as unknown as {
      rows: { uid: string; action: string; changes?: unknown[]; occurred_at: string }[];
    };
    return {
      rows: table.rows.map((r) => ({ uid: r.uid, action: r.action, changes: (r.changes?.length ?? 0) > 0, occurred_at: r.occurred_at })),
      total: events.histogram.total,
      newest: events.histogram.newest,
    };
  });
}

/** Applies a change to the filter bar (a select applies at once; a text field on Enter) and waits for the result. */
async function select(name: string, value: string): Promise<View> {
  await page.locator(`tp-events select[name=${name}]`).selectOption(value);
  await page.waitForTimeout(50);
  return settled();
}

async function type(fields: Record<string, string>): Promise<View> {
  for (const [name, value] of Object.entries(fields)) await page.locator(`tp-events input[name=${name}]`).fill(value);
  await page.locator(`tp-events input[name=${Object.keys(fields)[0]}]`).press('Enter');
  await page.waitForTimeout(50);
  return settled();
}

const param = (name: string) => new URL(page.url()).searchParams.get(name);

describe('point 6: the access log apart from the activity', () => {
  it('shows the activity by default, without the reads of the trail', async () => {
    // Earlier reads (this sign-in's own) are in the access log by now.
    await expect.poll(async () => (await request(`${server.url}/v1/events?tenant=acme&kind=access&limit=1`, adminKey)).body.data.length).toBe(1);
    await page.reload();
    const view = await settled();
    expect(await page.locator('tp-events select[name=kind]').inputValue()).toBe('activity');
    expect(view.rows.map((r) => r.uid).sort()).toEqual(seeded.map((s) => s.uid).sort());
    expect(view.total).toBe(SEED.length);
    expect(param('kind')).toBeNull();
  });

  it('shows the access log on its own, and both together, with the choice in the URL', async () => {
    const access = await select('kind', 'access');
    expect(access.rows.length).toBeGreaterThan(0);
    expect(access.rows.every((r) => r.action.startsWith('audit_log.'))).toBe(true);
    expect(param('kind')).toBe('access');
    const both = await select('kind', 'all');
    expect(both.total).toBeGreaterThan(SEED.length);
    expect(both.rows.some((r) => r.action.startsWith('audit_log.'))).toBe(true);
    expect(param('kind')).toBe('all');
    await select('kind', 'activity');
  });
});

describe('point 7: several actions, exclusions, has changes, relative times', () => {
  it('takes several action patterns, suffix patterns included', async () => {
    const view = await type({ action: 'document.*, *.role_changed' });
    const expected = seeded.filter((s) => s.action.startsWith('document.') || s.action.endsWith('.role_changed'));
    expect(view.rows.map((r) => r.uid).sort()).toEqual(expected.map((s) => s.uid).sort());
    expect(param('action')).toBe('document.*, *.role_changed');
  });

  it('leaves out excluded actions', async () => {
    const view = await type({ action: 'document.*, *.role_changed', exclude_action: 'document.read' });
    const expected = seeded.filter((s) => (s.action.startsWith('document.') || s.action.endsWith('.role_changed')) && s.action !== 'document.read');
    expect(view.rows.map((r) => r.uid).sort()).toEqual(expected.map((s) => s.uid).sort());
    expect(param('exclude_action')).toBe('document.read');
    await type({ action: '', exclude_action: '' });
  });

  it('shows only the events with changes, or only those without', async () => {
    const withChanges = await select('has_changes', 'true');
    expect(withChanges.rows.map((r) => r.uid).sort()).toEqual(
      seeded
        .filter((s) => s.changes)
        .map((s) => s.uid)
        .sort(),
    );
    expect(param('has_changes')).toBe('true');
    const without = await select('has_changes', 'false');
    expect(without.rows.map((r) => r.uid).sort()).toEqual(
      seeded
        .filter((s) => !s.changes)
        .map((s) => s.uid)
        .sort(),
    );
    await select('has_changes', '');
  });

  it('takes a time relative to now, kept relative in the URL (since=-35m)', async () => {
    await select('range', 'relative');
    const view = await type({ since_relative: '-35m' });
    const expected = seeded.filter((s) => s.at >= Date.now() - 35 * 60_000);
    expect(view.rows.map((r) => r.uid).sort()).toEqual(expected.map((s) => s.uid).sort());
    expect(param('since')).toBe('-35m');
    // A link typed by hand, as the API spells it, opens the same view.
    await page.goto(`${server.url}/?tenant=acme&since=-25m`);
    const linked = await settled();
    expect(await page.locator('tp-events select[name=range]').inputValue()).toBe('relative');
    expect(await page.locator('tp-events input[name=since_relative]').inputValue()).toBe('-25m');
    expect(linked.rows.map((r) => r.uid).sort()).toEqual(
      seeded
        .filter((s) => s.at >= Date.now() - 25 * 60_000)
        .map((s) => s.uid)
        .sort(),
    );
  });
});

describe('point 5: an empty result says where the trail is', () => {
  it("names the newest matching event's time and widens the range to include it", async () => {
    await page.goto(`${server.url}/?tenant=quiet`);
    const empty = await settled();
    expect(empty.rows).toEqual([]);
    const hint = page.locator('tp-events [data-empty-hint]');
    await expect.poll(() => hint.getAttribute('data-newest')).toBe(empty.newest);
    expect(await hint.textContent()).toContain(new Intl.DateTimeFormat('en-US', { timeZone: ZONE, day: '2-digit' }).format(new Date(empty.newest!)));
    await hint.getByRole('button', { name: /Widen the range/ }).click();
    const widened = await settled();
    expect(widened.rows.map((r) => r.action)).toEqual(['invoice.paid']);
    expect(await page.locator('tp-events select[name=range]').inputValue()).toBe('30d');
    expect(await hint.count()).toBe(0);
  });

  it('says so when nothing matches at any time', async () => {
    await type({ actor: 'nobody-at-all' });
    const hint = page.locator('tp-events [data-empty-hint]');
    await expect.poll(() => hint.textContent()).toContain('No event matches these filters at any time');
    expect(await hint.getByRole('button').count()).toBe(0);
  });
});

describe('point 11: small console things', () => {
  it('ledger page: the self-audit as a status with its time, checkpoints named by tree size', async () => {
    const audit = await runCli(['ledger', 'audit', '--tenant', 'acme'], { DATABASE_URL: db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY });
    expect(audit.code, audit.stderr).toBe(0);
    await request(`${server.url}/v1/events`, adminKey, 'POST', { tenant: 'acme', action: 'user.login', actor: { type: 'user', id: 'late' } });
    await page.goto(`${server.url}/?view=ledger&tenant=acme`);
    const selfAudit = page.locator('tp-ledger-page [data-self-audit]');
    await expect.poll(() => selfAudit.getAttribute('data-self-audit'), { timeout: 10_000 }).toBe('ok');
    const text = (await selfAudit.textContent())!;
    expect(text).toMatch(/✓ clean — checked tree size [\d,]+, finished \w{3} \d{2}, \d{4}, \d{2}:\d{2}:\d{2}/);
    expect(text).toMatch(/newer events? not yet audited/);
    expect(await page.locator('tp-ledger-page pre').count()).toBe(0);
    await expect.poll(() => page.locator('tp-ledger-page [data-checkpoint]').textContent(), { timeout: 20_000 }).toMatch(/^tree size [\d,]+, signed /);
  });

  it('a failed self-audit shows its first finding, not a JSON blob', async () => {
    await db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update events set body = jsonb_set(body, '{actor,id}', '"mallory"') where uid = ${seeded[0]!.uid}`;
    });
    const audit = await runCli(['ledger', 'audit', '--tenant', 'acme'], { DATABASE_URL: db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY });
    expect(audit.code).toBe(1);
    await page.reload();
    const selfAudit = page.locator('tp-ledger-page [data-self-audit]');
    await expect.poll(() => selfAudit.getAttribute('data-self-audit'), { timeout: 10_000 }).toBe('failed');
    expect(await selfAudit.textContent()).toMatch(/✗ problems found[\s\S]*finding[\s\S]*first: \w+ at leaf \d+/);
    expect(await page.locator('tp-ledger-page pre').count()).toBe(0);
  });

  it('the drawer names the checkpoint by its tree size', async () => {
    await page.goto(`${server.url}/?tenant=acme&action=document.updated`);
    await settled();
    await page.locator('tp-event-table .row').first().click();
    const badge = page.locator('tp-event-drawer [data-verify]');
    await expect.poll(() => badge.getAttribute('data-verify'), { timeout: 15_000 }).toBe('ok');
    expect(await badge.textContent()).toMatch(/Verified against the checkpoint of tree size [\d,]+/);
    await page.keyboard.press('Escape');
  });

  it('shows every time of a view in one zone, the browser’s or UTC, switched from the header', async () => {
    const { rows } = await settled();
    const format = (iso: string, timeZone: string) =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: 'short',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(iso));
    const shown = async () => ({
      header: await page.locator('tp-event-table [data-zone]').textContent(),
      first: await page.locator('tp-event-table .row [data-time]').first().textContent(),
    });
    expect(await shown()).toEqual({ header: `Time (${ZONE})`, first: format(rows[0]!.occurred_at, ZONE) });
    const toggle = page.locator('tp-console [data-time-zone]');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    await expect.poll(shown).toEqual({ header: 'Time (UTC)', first: format(rows[0]!.occurred_at, 'UTC') });
    expect(await toggle.textContent()).toContain('UTC');
    // The drawer and the operator pages follow, and the choice outlives a reload.
    await page.locator('tp-event-table .row').first().click();
    const times = await page.locator('tp-event-drawer [data-time]').allTextContents();
    expect(times[0]).toBe(format(rows[0]!.occurred_at, 'UTC'));
    await page.keyboard.press('Escape');
    await page.goto(`${server.url}/?view=keys`);
    const created = (await request(`${server.url}/v1/keys`, adminKey)).body.data[0].created_at as string;
    await expect.poll(() => page.locator('tp-keys-page tbody tr').first().textContent()).toContain(format(created, 'UTC'));
    await page.locator('tp-console [data-time-zone]').click();
    await expect.poll(() => page.locator('tp-keys-page tbody tr').first().textContent()).toContain(format(created, ZONE));
  });

  it('revoking the key you are signed in with asks first, saying it signs you out, then does', async () => {
    const created = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'e2e self', scope: 'admin' });
    expect(created.status, created.text).toBe(201);
    const other = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'e2e other', scope: 'read', tenant: 'acme' });
    const self = await context.newPage();
    await signIn(self, created.body.secret, '?view=keys');
    const messages: string[] = [];
    let answer = false;
    self.on('dialog', (dialog) => {
      messages.push(dialog.message());
      void (answer ? dialog.accept() : dialog.dismiss());
    });
    await self.getByRole('button', { name: 'Revoke key e2e other' }).click();
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]).not.toMatch(/sign/);
    expect(await self.locator('tp-keys-page [data-own-key]').count()).toBe(1);
    await self.getByRole('button', { name: 'Revoke key e2e self' }).click();
    await expect.poll(() => messages.length).toBe(2);
    expect(messages[1]).toMatch(/you are signed in with: revoking it signs you out/);
    // Dismissed: nothing happened.
    expect((await request(`${server.url}/v1/whoami`, created.body.secret)).status).toBe(200);
    expect(other.status).toBe(201);
    answer = true;
    await self.getByRole('button', { name: 'Revoke key e2e self' }).click();
    await self.locator('#key').waitFor({ timeout: 10_000 });
    expect(await self.evaluate(() => sessionStorage.getItem('trailproof.key'))).toBeNull();
    expect((await request(`${server.url}/v1/whoami`, created.body.secret)).status).toBe(401);
    await self.close();
  });
});
