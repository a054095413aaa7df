/**
 * The filters analysts expect, on the list, the feed and exports: the access log apart from the
 * activity (`kind`, `exclude_action`), several actions and suffix patterns, full text over action
 * segments, time relative to now, and events with changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let ingestKey: string;
let readKey: string;
let otherRead: string;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const events = [
  { action: 'member.role_changed', occurred_at: minutesAgo(10), changes: [{ field: 'role', before: 'viewer', after: 'admin' }] },
  { action: 'doc.updated', occurred_at: minutesAgo(20), changes: [{ field: 'title', after: 'Plan' }] },
  { action: 'invoice.updated', occurred_at: minutesAgo(30) },
  { action: 'user.login', occurred_at: minutesAgo(3 * 60) },
  { action: 'user.logout', occurred_at: minutesAgo(3 * 24 * 60) },
].map((e) => ({ ...e, actor: { type: 'user', id: 'alice' } }));

type Listed = { data: { action: string; occurred_at: string }[]; next_cursor: string | null };

async function list(params: string, key = readKey): Promise<Listed> {
  const res = await t.request('GET', `/v1/events?${params}`, { key });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Listed;
}
/** The actions of a page, leaving out the key and tenant records the setup made (activity too). */
const actions = (page: Listed) => page.data.map((e) => e.action).filter((a) => !a.startsWith('api_key.') && !a.startsWith('tenant.'));

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('other');
  ingestKey = await t.createKey('ingest', 'acme');
  readKey = await t.createKey('read', 'acme');
  otherRead = await t.createKey('read', 'other');
  const res = await t.request('POST', '/v1/events', { key: ingestKey, body: { events } });
  expect(res.json().rejected).toEqual([]);
  // Reads of the trail: each is recorded as audit_log.viewed in acme.
  for (let i = 0; i < 3; i++) await list('limit=1');
});
afterAll(() => t.close());

describe('the access log apart from the activity', () => {
  it('lists only activity with kind=activity or exclude_action, only reads with kind=access', async () => {
    const all = await list('limit=1000');
    expect(actions(all)).toContain('audit_log.viewed');
    const activity = await list('kind=activity&limit=1000');
    expect(actions(activity).sort()).toEqual(events.map((e) => e.action).sort());
    const excluded = await list('exclude_action=audit_log.viewed&limit=1000');
    expect(actions(excluded).sort()).toEqual(events.map((e) => e.action).sort());
    const access = await list('kind=access&limit=1000');
    expect(access.data.length).toBeGreaterThanOrEqual(3);
    expect(new Set(actions(access))).toEqual(new Set(['audit_log.viewed']));
  });

  it('filters the feed and exports the same way', async () => {
    const feed = await t.request('GET', '/v1/events/feed?wait=0&limit=1000&kind=activity', { key: readKey });
    expect(feed.statusCode).toBe(200);
    expect(actions(feed.json()).sort()).toEqual(events.map((e) => e.action).sort());
    const excluded = await t.request('GET', '/v1/events/feed?wait=0&limit=1000&exclude_action=audit_log.*', { key: readKey });
    expect((excluded.json().data as { action: string }[]).every((e) => !e.action.startsWith('audit_log.'))).toBe(true);
    const exported = await t.request('GET', '/v1/exports?format=jsonl&exclude_action=audit_log.*', { key: readKey });
    expect(exported.statusCode).toBe(200);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string });
    expect(actions({ data: lines } as Listed).sort()).toEqual(events.map((e) => e.action).sort());
  });

  it("never shows another tenant's access log", async () => {
    expect((await list('kind=access&limit=1000', otherRead)).data).toEqual([]);
  });
});

describe('search that analysts expect', () => {
  it('finds an action by its segments in full text', async () => {
    expect(actions(await list('q=member&kind=activity'))).toEqual(['member.role_changed']);
    expect(actions(await list('q=role_changed&kind=activity'))).toEqual(['member.role_changed']);
    expect(actions(await list('q=member.role_changed&kind=activity'))).toEqual(['member.role_changed']);
    expect(actions(await list('q=updated&kind=activity')).sort()).toEqual(['doc.updated', 'invoice.updated']);
  });

  it('takes several actions, suffix patterns and exclusions', async () => {
    expect(actions(await list('action=user.login&action=doc.updated')).sort()).toEqual(['doc.updated', 'user.login']);
    expect(actions(await list('action=user.login,member.*')).sort()).toEqual(['member.role_changed', 'user.login']);
    expect(actions(await list('action=*.updated')).sort()).toEqual(['doc.updated', 'invoice.updated']);
    expect(actions(await list('action=*.updated&exclude_action=invoice.*'))).toEqual(['doc.updated']);
    const bad = await t.request('GET', '/v1/events?action=*.Updated', { key: readKey });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ pointer: '/action', code: 'pattern' });
  });

  it('takes times relative to now, and pages through one window', async () => {
    expect(actions(await list('since=-1h&kind=activity')).sort()).toEqual(['doc.updated', 'invoice.updated', 'member.role_changed']);
    expect(actions(await list('since=-7d&until=-2h&kind=activity')).sort()).toEqual(['user.login', 'user.logout']);
    const query = 'since=-1d&exclude_action=audit_log.*,api_key.*,tenant.*&limit=2';
    const first = await list(query);
    expect(first.next_cursor).not.toBeNull();
    await new Promise((r) => setTimeout(r, 5)); // `-1d` now names a later time: the cursor keeps the first page's
    const second = await list(`${query}&cursor=${first.next_cursor}`);
    expect([...actions(first), ...actions(second)]).toEqual(['member.role_changed', 'doc.updated', 'invoice.updated', 'user.login']);
    const bad = await t.request('GET', '/v1/events?since=-1y', { key: readKey });
    expect(bad.json().error.details[0]).toMatchObject({ pointer: '/since', code: 'invalid_timestamp' });
  });

  it('selects events with or without changes', async () => {
    expect(actions(await list('has_changes=true')).sort()).toEqual(['doc.updated', 'member.role_changed']);
    expect(actions(await list('has_changes=false&kind=activity')).sort()).toEqual(['invoice.updated', 'user.login', 'user.logout']);
    const bad = await t.request('GET', '/v1/events?has_changes=yes', { key: readKey });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ pointer: '/has_changes', code: 'invalid_enum' });
  });
});
