/** GET /v1/exports: the verifiable bundle over HTTP, streamed, tenant-scoped and itself audited. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleVerifier } from '../../src/verify/bundle-verifier.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const keys = {} as Record<'aRead' | 'aIngest' | 'bRead', string>;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('tenant-a');
  await t.createTenant('tenant-b');
  keys.aRead = await t.createKey('read', 'tenant-a');
  keys.aIngest = await t.createKey('ingest', 'tenant-a');
  keys.bRead = await t.createKey('read', 'tenant-b');
  // More leaves than one writer batch (2,000), so the bundle is assembled from several queries.
  for (let round = 0; round < 5; round++) {
    const events = Array.from({ length: 500 }, (_, i) => ({
      action: 'document.read',
      actor: { type: 'user', id: `u${i}` },
      targets: [{ type: 'document', id: `d${round}` }],
      metadata: { round, text: 'ünïcödé \u2028 "quoted"' },
    }));
    const res = await t.request('POST', '/v1/events', { key: keys.aIngest, body: { events } });
    expect(res.statusCode).toBe(200);
    await t.services.checkpointer.issue('tenant-a');
  }
  await t.request('POST', '/v1/events', { body: { tenant: 'tenant-b', action: 'secret.thing', actor: { type: 'user', id: 'bob' } } });
}, 120_000);
afterAll(() => t.close());

const get = (url: string, key: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

describe('GET /v1/exports?format=bundle', () => {
  it('streams a bundle that verifies offline with the published key, ending in a fresh checkpoint', async () => {
    const res = await get('/v1/exports?format=bundle', keys.aRead);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="trailproof-tenant-a-\d{4}-\d{2}-\d{2}\.tpbundle\.jsonl"$/);
    const publishedKey = (await t.app.inject({ method: 'GET', url: '/v1/ledger/key?tenant=tenant-a' })).body.trim();
    const verifier = new BundleVerifier({ keys: [publishedKey] });
    for (const line of res.body.trimEnd().split('\n')) verifier.line(line);
    const report = verifier.finish();
    expect(report.findings).toEqual([]);
    // The 2,500 events, the records of the key creations and of this export, all under the checkpoint issued for it.
    const status = (await get('/v1/ledger/status', keys.aRead)).json() as { size: number; checkpoint: { size: number } };
    expect(report).toMatchObject({ ok: true, leaves: status.size, unsigned_leaves: 0, tenant: 'tenant-a', origin: 'test.trailproof/t/tenant-a' });
    expect(report.leaves).toBeGreaterThan(2500);
    expect(status.checkpoint.size).toBe(status.size);
    expect(report.checkpoints.verified).toBeGreaterThanOrEqual(6);
    expect(res.body).not.toContain('secret.thing');
  });

  it("records the export in the tenant's own trail", async () => {
    const res = await t.request('GET', '/v1/events?tenant=tenant-a&action=audit_log.exported');
    const exported = res.json().data as { action: string; metadata: { format: string }; actor: { type: string } }[];
    expect(exported.length).toBeGreaterThanOrEqual(1);
    expect(exported[0]).toMatchObject({ action: 'audit_log.exported', metadata: { format: 'bundle' }, actor: { type: 'api_key' } });
  });

  it('keeps tenants apart: a key of tenant A cannot export tenant B', async () => {
    const res = await get('/v1/exports?format=bundle&tenant=tenant-b', keys.aRead);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('AUTH_FORBIDDEN');
    expect(res.body).not.toContain('secret.thing');
    const own = await get('/v1/exports?format=bundle', keys.bRead);
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain('secret.thing');
    expect(own.body).not.toContain('document.read');
  });

  it('needs read scope, and names the known formats for an unknown one', async () => {
    expect((await get('/v1/exports?format=bundle', keys.aIngest)).statusCode).toBe(403);
    const unknown = await get('/v1/exports?format=xml', keys.aRead);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'QUERY_INVALID', message: expect.stringMatching(/format must be one of .*bundle/) });
    const filtered = await get('/v1/exports?format=bundle&action=user.login', keys.aRead);
    expect(filtered.statusCode).toBe(400);
    expect(filtered.json().error).toMatchObject({ code: 'QUERY_INVALID', details: [{ pointer: '/action' }] });
    const unbound = await t.request('GET', '/v1/exports?format=bundle');
    expect(unbound.json().error.code).toBe('TENANT_REQUIRED');
  });
});
