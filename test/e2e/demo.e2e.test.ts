/**
 * Issue 15, point 5: after `trailproof demo --events N --tenants T`, the console's default view
 * (the last 24 hours) of every demo tenant shows that tenant's demo events, in Debian's Chromium
 * against a real `trailproof serve` process. A smaller demo than the million: each tenant's
 * trail reaches up to now whatever its size, as long as it has more events than the demo has days.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium, consolePage } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const TENANTS = ['demo-1', 'demo-2', 'demo-3'];
const DEMO_ACTIONS = ['user.login', 'user.login_failed', 'document.read', 'document.updated', 'document.exported', 'member.role_changed', 'api.called'];

let db: TestDatabase;
let server: ServerProcess;
let browser: Browser;
let page: Page;
const adminKey = randomAdminKey();

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });
  const demo = await runCli(['demo', '--events', '6000', '--tenants', String(TENANTS.length)], { DATABASE_URL: db.url }, 120_000);
  expect(demo.code, demo.stderr).toBe(0);
  browser = await launchChromium();
  page = await consolePage(browser);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop('SIGTERM').catch(() => {});
  await killStartedProcesses();
  await db?.drop();
});

describe('the console after trailproof demo', () => {
  it("shows every demo tenant's own demo events in its default view of the last 24 hours", async () => {
    await page.goto(`${server.url}/?tenant=${TENANTS[0]}`);
    await page.locator('#key').fill(adminKey);
    await page.locator('button[type=submit]').click();
    for (const tenant of TENANTS) {
      if (tenant !== TENANTS[0]) await page.goto(`${server.url}/?tenant=${tenant}`);
      const shown = await settledView();
      expect(shown.range, tenant).toBe('24h');
      const demoRows = shown.rows.filter((r) => DEMO_ACTIONS.includes(r.action));
      expect(demoRows.length, `${tenant}: ${JSON.stringify(shown.rows.slice(0, 3))}`).toBeGreaterThan(0);
      expect(shown.total, tenant).toBeGreaterThanOrEqual(demoRows.length);
      for (const row of demoRows) {
        expect(row.tenant).toBe(tenant);
        expect(Date.now() - Date.parse(row.occurred_at)).toBeLessThan(24 * 3600_000);
      }
      expect(await page.locator('tp-event-table .row').count(), tenant).toBeGreaterThan(0);
    }
  });
}, 300_000);

/** The console's events view once its first page and histogram have arrived: its range, rows and total. */
async function settledView(): Promise<{ range: string; total: number; rows: { tenant: string; action: string; occurred_at: string }[] }> {
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
      histogram: { total: number };
    };
    const table = events.shadowRoot.querySelector('tp-event-table') as unknown as { rows: { tenant: string; action: string; occurred_at: string }[] };
    const range = (events.shadowRoot.querySelector('select[name=range]') as HTMLSelectElement).value;
    return { range, total: events.histogram.total, rows: table.rows.map((r) => ({ tenant: r.tenant, action: r.action, occurred_at: r.occurred_at })) };
  });
}
