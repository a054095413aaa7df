/**
 * Cross-tenant isolation, for every route and every scope: a key of tenant A can never read or write
 * tenant B's data, and never learns whether B's ids exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const keys: Record<'a' | 'b', Record<'ingest' | 'read' | 'admin', string>> = { a: {} as never, b: {} as never };
let bEventUid: string;
let bKeyId: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('tenant-a');
  await t.createTenant('tenant-b');
  for (const tenant of ['a', 'b'] as const) {
    for (const scope of ['ingest', 'read', 'admin'] as const) keys[tenant][scope] = await t.createKey(scope, `tenant-${tenant}`);
  }
  const b = await t.request('POST', '/v1/events', { key: keys.b.ingest, body: { action: 'secret.thing', actor: { type: 'user', id: 'bob' } } });
  bEventUid = b.json().uid;
  await t.request('POST', '/v1/events', { key: keys.a.ingest, body: { action: 'own.thing', actor: { type: 'user', id: 'alice' } } });
  bKeyId = ((await t.request('GET', '/v1/keys', { key: keys.b.admin })).json().data as { id: string }[])[0]!.id;
});
afterAll(() => t.close());

describe('a key bound to tenant A', () => {
  it.each(['read', 'admin'] as const)('with scope %s lists only tenant A events and cannot name tenant B', async (scope) => {
    const own = await t.request('GET', '/v1/events?limit=1000', { key: keys.a[scope] });
    expect(own.statusCode).toBe(200);
    const tenants = new Set((own.json().data as { tenant: string }[]).map((e) => e.tenant));
    expect([...tenants]).toEqual(['tenant-a']);
    const other = await t.request('GET', '/v1/events?tenant=tenant-b', { key: keys.a[scope] });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toMatchObject({ code: 'AUTH_FORBIDDEN', details: [expect.objectContaining({ pointer: '/tenant' })] });
  });

  it.each(['read', 'admin'] as const)('with scope %s gets 404 for a tenant B event, as for a missing one', async (scope) => {
    const res = await t.request('GET', `/v1/events/${bEventUid}`, { key: keys.a[scope] });
    expect(res.statusCode).toBe(404);
    const missing = await t.request('GET', '/v1/events/00000000-0000-7000-8000-000000000000', { key: keys.a[scope] });
    expect(missing.json().error.code).toBe(res.json().error.code);
  });

  it.each(['ingest', 'admin'] as const)('with scope %s cannot write into tenant B', async (scope) => {
    const single = await t.request('POST', '/v1/events', {
      key: keys.a[scope],
      body: { tenant: 'tenant-b', action: 'forged.event', actor: { type: 'user', id: 'mallory' } },
    });
    expect(single.statusCode).toBe(403);
    const batch = await t.request('POST', '/v1/events', {
      key: keys.a[scope],
      body: {
        events: [
          { tenant: 'tenant-b', action: 'forged.event', actor: { type: 'user', id: 'm' } },
          { action: 'own.event', actor: { type: 'user', id: 'a' } },
        ],
      },
    });
    expect(batch.json().rejected).toEqual([{ index: 0, errors: [expect.objectContaining({ pointer: '/events/0/tenant', code: 'tenant_forbidden' })] }]);
    const forged = await t.db.sql`select count(*)::int as n from events where tenant_id = 'tenant-b' and action = 'forged.event'`;
    expect(forged[0]!.n).toBe(0);
  });

  it('with scope ingest cannot read at all', async () => {
    for (const url of ['/v1/events', `/v1/events/${bEventUid}`, '/v1/keys', '/v1/tenants']) {
      const res = await t.request('GET', url, { key: keys.a.ingest });
      expect(res.statusCode, url).toBe(403);
    }
  });

  it('with scope read cannot use operator routes', async () => {
    expect((await t.request('GET', '/v1/keys', { key: keys.a.read })).statusCode).toBe(403);
    expect((await t.request('POST', '/v1/keys', { key: keys.a.read, body: { name: 'x', scope: 'read' } })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/v1/keys/${bKeyId}`, { key: keys.a.read })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/tenants', { key: keys.a.read })).statusCode).toBe(403);
  });

  it('with scope admin sees and manages only tenant A', async () => {
    const tenants = await t.request('GET', '/v1/tenants', { key: keys.a.admin });
    expect(tenants.json().data.map((x: { id: string }) => x.id)).toEqual(['tenant-a']);
    expect((await t.request('POST', '/v1/tenants', { key: keys.a.admin, body: { id: 'tenant-c' } })).statusCode).toBe(403);
    const list = await t.request('GET', '/v1/keys', { key: keys.a.admin });
    expect(new Set(list.json().data.map((k: { tenant: string }) => k.tenant))).toEqual(new Set(['tenant-a']));
    expect((await t.request('POST', '/v1/keys', { key: keys.a.admin, body: { name: 'x', scope: 'read', tenant: 'tenant-b' } })).statusCode).toBe(403);
    const revokeB = await t.request('DELETE', `/v1/keys/${bKeyId}`, { key: keys.a.admin });
    expect(revokeB.statusCode).toBe(404);
    expect((await t.request('GET', '/v1/events', { key: keys.b.admin })).statusCode).toBe(200);
    const minted = await t.request('POST', '/v1/keys', { key: keys.a.admin, body: { name: 'a reader', scope: 'read' } });
    expect(minted.statusCode).toBe(201);
    expect(minted.json().tenant).toBe('tenant-a');
  });

  it('is recorded in tenant A when it reads, never in tenant B', async () => {
    await t.request('GET', '/v1/events', { key: keys.a.read });
    await t.services.readRecords.flush(); // records of single-event reads join the ledger a moment later
    const rows = await t.db.sql<{ tenant_id: string; n: number }[]>`
      select tenant_id, count(*)::int as n from events where action = 'audit_log.viewed' group by tenant_id`;
    const byTenant = Object.fromEntries(rows.map((r) => [r.tenant_id, r.n]));
    expect(byTenant['tenant-a']).toBeGreaterThan(0);
    const bReads = await t.db.sql`select body from events where tenant_id = 'tenant-b' and action = 'audit_log.viewed'`;
    const bActors = new Set(bReads.map((r) => (r.body as { actor: { id: string } }).actor.id));
    const aKeyIds = ((await t.request('GET', '/v1/keys', { key: keys.a.admin })).json().data as { id: string }[]).map((k) => k.id);
    for (const id of aKeyIds) expect(bActors.has(id)).toBe(false);
  });
});

describe('revocation', () => {
  it('stops a revoked key at once in the process that revoked it', async () => {
    const key = await t.createKey('read', 'tenant-a');
    expect((await t.request('GET', '/v1/events', { key })).statusCode).toBe(200);
    const id = ((await t.request('GET', '/v1/keys?', { key: keys.a.admin })).json().data as { id: string; name: string }[]).find((k) => key.includes(k.id))!.id;
    expect((await t.request('DELETE', `/v1/keys/${id}`, { key: keys.a.admin })).statusCode).toBe(204);
    const after = await t.request('GET', '/v1/events', { key });
    expect(after.statusCode).toBe(401);
  });
});
