/**
 * Issue 18 points 1, 2, 3 and 5 through the API: retention policies, lifecycle runs, legal holds.
 * After a run, events older than the tenant's retention are gone from search, exports and the feed;
 * younger ones and other tenants' stay; the purge is in the tenant's trail; holds keep what they
 * cover, and only that. Every route refuses another tenant's key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

let t: TestApp;
let adminA: string;
let readA: string;
let adminB: string;

const event = (actor: string, n: number) => ({ action: 'document.read', actor: { type: 'user', id: actor }, targets: [{ type: 'document', id: `doc-${n}` }] });

beforeAll(async () => {
  t = await createTestApp();
  for (const id of ['life-a', 'life-b', 'life-c']) await t.createTenant(id);
  // Received before anything else of these tenants (leaves are received in index order).
  await appendReceivedAgo(t.db.sql, 'life-b', 20, [event('alice', 1), event('bob', 2), event('carol', 3), event('alice', 4)]);
  await appendReceivedAgo(t.db.sql, 'life-c', 20, [event('alice', 6)]);
  adminA = await t.createKey('admin', 'life-a');
  readA = await t.createKey('read', 'life-a');
  adminB = await t.createKey('admin', 'life-b');
});
afterAll(() => t.close());

const actions = async (tenant: string, key?: string) =>
  (
    (await t.request('GET', `/v1/events?tenant=${tenant}&limit=1000&sort=asc`, key ? { key } : {})).json() as {
      data: { action: string; actor: { id: string } }[];
    }
  ).data;

describe('retention policy', () => {
  it('defaults to TRAILPROOF_DEFAULT_RETENTION_DAYS and can be set, recorded in the trail', async () => {
    expect((await t.request('GET', '/v1/tenants/life-a/retention', { key: readA })).json()).toEqual({
      tenant: 'life-a',
      days: 365,
      source: 'default',
      default_days: 365,
    });
    const put = await t.request('PUT', '/v1/tenants/life-a/retention', { key: adminA, body: { days: 30, hot_days: 7 } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ tenant: 'life-a', days: 30, hot_days: 7, source: 'tenant' });
    expect((await t.request('GET', '/v1/tenants/life-a/retention')).json()).toMatchObject({ days: 30, hot_days: 7 });
    const records = (await actions('life-a')).filter((e) => e.action === 'retention.updated');
    expect(records).toHaveLength(1);
  });

  it.each([
    [{ days: 0 }, '/days'],
    [{ days: 3651 }, '/days'],
    [{ days: 1.5 }, '/days'],
    [{ days: 10, hot_days: 11 }, '/hot_days'],
    [{}, '/days'],
  ])('refuses %j, naming %s', async (body, pointer) => {
    const res = await t.request('PUT', '/v1/tenants/life-a/retention', { key: adminA, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('REQUEST_INVALID');
    expect(res.json().error.details.map((d: { pointer: string }) => d.pointer)).toContain(pointer);
  });

  it("a key of another tenant can neither read nor set a tenant's retention", async () => {
    expect((await t.request('GET', '/v1/tenants/life-a/retention', { key: adminB })).statusCode).toBe(403);
    expect((await t.request('PUT', '/v1/tenants/life-a/retention', { key: adminB, body: { days: 1 } })).statusCode).toBe(403);
    expect((await t.request('PUT', '/v1/tenants/life-a/retention', { key: readA, body: { days: 1 } })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/tenants/nope/retention')).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/tenants/life-a/retention')).json()).toMatchObject({ days: 30 });
  });
});

describe('lifecycle runs and legal holds', () => {
  it('purges what expired, keeps what is young, held or another tenant’s, and records the purge', async () => {
    // life-b: 10 days retention. Old events by alice, bob and carol; bob's held, carol's hold released.
    expect((await t.request('PUT', '/v1/tenants/life-b/retention', { key: adminB, body: { days: 10 } })).statusCode).toBe(200);
    // A young event by carol, received now: within the retention, it stays.
    expect((await t.request('POST', '/v1/events', { key: adminB, body: { events: [event('carol', 5)] } })).statusCode).toBe(200);
    const held = await t.request('POST', '/v1/legal-holds', { key: adminB, body: { reason: 'case 42', filter: { actor: 'bob' } } });
    expect(held.statusCode).toBe(201);
    const released = await t.request('POST', '/v1/legal-holds', {
      key: adminB,
      body: { reason: 'case 43', filter: { target: { type: 'document', id: 'doc-3' } } },
    });
    const releasedId = released.json().id as string;
    expect((await t.request('DELETE', `/v1/legal-holds/${releasedId}`, { key: adminB, body: { reason: 'settled' } })).statusCode).toBe(200);
    expect((await t.request('DELETE', `/v1/legal-holds/${releasedId}`, { key: adminB, body: { reason: 'again' } })).statusCode).toBe(404);

    const result = (await runLifecycle(t, { key: adminB })) as {
      tenants: { tenant: string; removed: number; records: { count: number }[] }[];
      failed: unknown[];
    };
    expect(result.failed).toEqual([]);
    expect(result.tenants).toHaveLength(1);
    expect(result.tenants[0]).toMatchObject({ tenant: 'life-b', removed: 3, records: [{ count: 3 }] });

    const left = await actions('life-b');
    const documents = left.filter((e) => e.action === 'document.read').map((e) => e.actor.id);
    expect(documents).toEqual(['bob', 'carol']);
    expect(left.map((e) => e.action)).toEqual(expect.arrayContaining(['retention.updated', 'legal_hold.created', 'legal_hold.released', 'retention.purged']));
    // Gone from exports and the feed too; another tenant's old event is untouched.
    const exported = await t.request('GET', '/v1/exports?tenant=life-b&format=jsonl');
    const documentsIn = (lines: { action: string; targets: { id: string }[] }[]) =>
      lines.filter((e) => e.action === 'document.read').map((e) => e.targets[0]!.id);
    expect(
      documentsIn(
        exported.body
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ),
    ).toEqual(['doc-2', 'doc-5']);
    const feed = await t.request('GET', '/v1/events/feed?tenant=life-b&limit=100&wait=0');
    expect(documentsIn(feed.json().data)).toEqual(['doc-2', 'doc-5']);
    expect((await actions('life-c')).map((e) => e.actor.id)).toEqual(['alice']);
    // A second run finds nothing more.
    const again = await runLifecycle(t, { key: adminB, body: { tenant: 'life-b' } });
    expect(again.tenants[0]).toMatchObject({ removed: 0, records: [] });
  });

  it('legal holds are listed per tenant, with releases, and only to that tenant', async () => {
    const list = await t.request('GET', '/v1/legal-holds?tenant=life-b', { key: adminB });
    expect(list.statusCode).toBe(200);
    const holds = list.json().data as { reason: string; released_at: string | null; release_reason: string | null }[];
    expect(holds.map((h) => [h.reason, h.release_reason])).toEqual([
      ['case 43', 'settled'],
      ['case 42', null],
    ]);
    expect((await t.request('GET', '/v1/legal-holds?tenant=life-b&active=true', { key: adminB })).json().data).toHaveLength(1);
    expect((await t.request('GET', '/v1/legal-holds?tenant=life-b', { key: readA })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/legal-holds', { key: readA })).json().data).toEqual([]);
    const id = (holds[1] as unknown as { id: string }).id;
    expect((await t.request('GET', `/v1/legal-holds/${id}`, { key: readA })).statusCode).toBe(404);
    expect((await t.request('DELETE', `/v1/legal-holds/${id}`, { key: adminA, body: { reason: 'not yours' } })).statusCode).toBe(404);
    expect((await t.request('POST', '/v1/legal-holds', { key: adminA, body: { tenant: 'life-b', reason: 'x' } })).statusCode).toBe(403);
    expect((await t.request('POST', '/v1/lifecycle/run', { key: adminA, body: { tenant: 'life-b' } })).statusCode).toBe(403);
    expect((await t.request('POST', '/v1/legal-holds', { key: readA, body: { reason: 'x' } })).statusCode).toBe(403);
    expect((await t.request('GET', `/v1/legal-holds/${id}`, { key: adminB })).json()).toMatchObject({ reason: 'case 42', released_at: null });
  });

  it.each([
    [{ reason: '' }, '/reason'],
    [{}, '/reason'],
    [{ reason: 'x', filter: { since: 'yesterday' } }, '/filter/since'],
    [{ reason: 'x', filter: { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } }, '/filter/until'],
    [{ reason: 'x', filter: { target: { type: 'doc' } } }, '/filter/target/id'],
  ])('a hold %j is refused, naming %s', async (body, pointer) => {
    const res = await t.request('POST', '/v1/legal-holds', { key: adminB, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.map((d: { pointer: string }) => d.pointer)).toContain(pointer);
  });

  it('a release needs a reason; a run body may only name a tenant', async () => {
    const [hold] = (await t.request('GET', '/v1/legal-holds?tenant=life-b&active=true', { key: adminB })).json().data as { id: string }[];
    const res = await t.request('DELETE', `/v1/legal-holds/${hold!.id}`, { key: adminB, body: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].pointer).toBe('/reason');
    const run = await t.request('POST', '/v1/lifecycle/run', { key: adminB, body: { tenants: ['x'] } });
    expect(run.statusCode).toBe(400);
    expect(run.json().error.details[0].pointer).toBe('/tenants');
  });
});

describe('lifecycle runs', () => {
  it('answer at once with the run, which is followed to its result and listed per tenant', async () => {
    const started = await t.request('POST', '/v1/lifecycle/run', { key: adminA, body: { tenant: 'life-a' } });
    expect(started.statusCode).toBe(202);
    const run = started.json();
    expect(run).toMatchObject({ tenant: 'life-a', trigger: 'api', status: 'running', finished_at: null, tenants: [], failed: [] });
    expect(started.headers.location).toBe(`/v1/lifecycle/runs/${run.id}`);
    const ended = (await t.request('GET', `/v1/lifecycle/runs/${run.id}?wait=30`, { key: adminA })).json();
    expect(ended).toMatchObject({ id: run.id, status: 'succeeded', progress: null, tenants: [{ tenant: 'life-a', removed: 0 }], failed: [] });
    expect(Date.parse(ended.finished_at)).toBeGreaterThanOrEqual(Date.parse(ended.started_at));

    const mine = (await t.request('GET', '/v1/lifecycle/runs', { key: adminA })).json().data as { id: string; tenant: string }[];
    expect(mine.map((r) => r.id)).toContain(run.id);
    expect(mine.every((r) => r.tenant === 'life-a')).toBe(true);
    // The operator's key sees the runs of every tenant.
    expect(((await t.request('GET', '/v1/lifecycle/runs?limit=100')).json().data as { id: string }[]).map((r) => r.id)).toContain(run.id);
  });

  it('are another tenant’s key’s to neither see nor list', async () => {
    const run = await runLifecycle(t, { key: adminA, body: { tenant: 'life-a' } });
    expect((await t.request('GET', `/v1/lifecycle/runs/${run.id}`, { key: adminB })).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/lifecycle/runs', { key: adminB })).json().data.map((r: { id: string }) => r.id)).not.toContain(run.id);
    expect((await t.request('GET', '/v1/lifecycle/runs?tenant=life-a', { key: adminB })).statusCode).toBe(403);
    expect((await t.request('GET', `/v1/lifecycle/runs/${run.id}`, { key: readA })).statusCode).toBe(403);
    expect((await t.request('GET', `/v1/lifecycle/runs/${run.id}`, { key: null })).statusCode).toBe(401);
  });

  it('read as interrupted when their process stopped moving them', async () => {
    const run = await runLifecycle(t, { key: adminA, body: { tenant: 'life-a' } });
    // A run whose process died: still `running` in its row, its heartbeat old.
    await t.db.sql`update lifecycle_runs set status = 'running', finished_at = null, heartbeat_at = now() - interval '5 minutes' where id = ${run.id}`;
    expect((await t.request('GET', `/v1/lifecycle/runs/${run.id}`, { key: adminA })).json()).toMatchObject({ status: 'interrupted' });
  });

  it.each([
    ['/v1/lifecycle/runs/not-a-uuid', 'GET', '/id'],
    ['/v1/lifecycle/runs/00000000-0000-4000-8000-000000000000?wait=61', 'GET', '/wait'],
    ['/v1/lifecycle/runs?limit=0', 'GET', '/limit'],
  ] as const)('refuse %s %s, naming %s', async (url, method, pointer) => {
    const res = await t.request(method, url, { key: adminA });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].pointer).toBe(pointer);
  });

  it('of an unknown id is 404', async () => {
    expect((await t.request('GET', '/v1/lifecycle/runs/00000000-0000-4000-8000-000000000000', { key: adminA })).statusCode).toBe(404);
  });
});
