/**
 * Issue 20 point 3, GET /v1/capture/status against a real application database: each tenant sees
 * its own backlog and lag (changes waiting in the outbox), then what the relay moved into its
 * trail (total, last time, last minute). Admin scope; a key of one tenant never sees another's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, type AppDatabase } from '../../test/helpers/app-database.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { installCapture } from './install.ts';

let t: TestApp;
let appDb: AppDatabase;
const keys = { acme: '', globex: '', read: '' };

beforeAll(async () => {
  appDb = await createAppDatabase();
  t = await createTestApp({ TRAILPROOF_CAPTURE_DATABASE_URL: appDb.url });
  await t.createTenant('acme');
  await t.createTenant('globex');
  await installCapture(appDb.sql, { tables: ['public.accounts'], tenantColumn: 'org_id' });
  for (const [org, n] of [
    ['acme', 3],
    ['globex', 2],
  ] as const) {
    for (let i = 0; i < n; i++) await appDb.appSql`insert into accounts (org_id, name) values (${org}, ${`account ${i}`})`;
  }
  keys.acme = await t.createKey('admin', 'acme');
  keys.globex = await t.createKey('admin', 'globex');
  keys.read = await t.createKey('read', 'acme');
});
afterAll(async () => {
  await t?.services.captureRelays.stop();
  await t?.close();
  await appDb?.drop();
});

const status = (query: string, key?: string | null) => t.request('GET', `/v1/capture/status${query}`, key === undefined ? {} : { key });

describe('GET /v1/capture/status', () => {
  it("gives the tenant's backlog and lag, counting only its own changes", async () => {
    const res = await status('?tenant=acme');
    expect(res.statusCode).toBe(200);
    const [source] = res.json().sources;
    expect(res.json().tenant).toBe('acme');
    expect(source).toMatchObject({ running: false, reachable: true, installed: true, backlog: 3, parked: 0, relayed: 0, last_relayed_at: null });
    expect(source.lag_seconds).toBeGreaterThan(0);
    expect(Date.parse(source.oldest_waiting_at)).toBeLessThanOrEqual(Date.now());
    expect((await status('', keys.globex)).json().sources[0]).toMatchObject({ backlog: 2 });
  });

  it('shows what the relay moved into the trail once it runs, and the backlog gone', async () => {
    t.services.captureRelays.start();
    await expect.poll(async () => (await status('?tenant=acme')).json().sources[0].backlog, { timeout: 20_000 }).toBe(0);
    const [source] = (await status('', keys.acme)).json().sources;
    expect(source).toMatchObject({ running: true, backlog: 0, lag_seconds: 0, oldest_waiting_at: null, relayed: 3, relayed_last_minute: 3 });
    expect(Date.now() - Date.parse(source.last_relayed_at)).toBeLessThan(60_000);
    await expect.poll(async () => (await status('', keys.globex)).json().sources[0].relayed, { timeout: 20_000 }).toBe(2);
  });

  it("never shows one tenant's relay figures to another tenant's key", async () => {
    const res = await status('?tenant=acme', keys.globex);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'AUTH_FORBIDDEN', details: [{ pointer: '/tenant', code: 'tenant_forbidden' }] });
  });

  it('needs an admin key, and refuses an unknown query field', async () => {
    expect((await status('', keys.read)).statusCode).toBe(403);
    expect((await status('?tenant=acme', null)).statusCode).toBe(401);
    const bad = await status('?tenant=acme&source=x');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('QUERY_INVALID');
    expect((await status('?tenant=nope')).json().error.code).toBe('TENANT_NOT_FOUND');
  });
});
