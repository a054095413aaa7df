/**
 * Issue 18 point 4: archived periods stay reachable through the API. After a lifecycle run has
 * archived and purged a tenant's old events, the tenant's key lists its segments, downloads them as
 * stored, gets a purged event with an inclusion proof that the project's verifier and an
 * independent one (RFC 8785 + the spec verifier) accept, and exports the archived range. A key of
 * another tenant reaches none of it; malformed requests are refused with stable codes and pointers.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventProofInput, verifyEventProof } from '../../src/verify/event-proof.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { hashLeaf, verifyTlogProof } from '../independent/spec-verifier.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

const event = (actor: string, n: number) => ({ action: 'document.read', actor: { type: 'user', id: actor }, targets: [{ type: 'document', id: `doc-${n}` }] });

let t: TestApp;
const keys = { arc: '', other: '' };
let vkey: string;

beforeAll(async () => {
  t = await createTestApp();
  for (const tenant of ['arc', 'other'] as const) {
    await t.createTenant(tenant);
    await appendReceivedAgo(t.db.sql, tenant, 20, [event(`${tenant}-alice`, 1), event(`${tenant}-bob`, 2), event(`${tenant}-carol`, 3)]);
    await t.request('PUT', `/v1/tenants/${tenant}/retention`, { body: { days: 10 } });
    const run = await runLifecycle(t, { body: { tenant } });
    expect(run.tenants[0]).toMatchObject({ removed: 3 });
    keys[tenant] = await t.createKey('read', tenant);
  }
  vkey = (await t.request('GET', '/v1/ledger/key?tenant=arc')).body.split('\n')[0]!;
}, 120_000);
afterAll(() => t.close());

describe('GET /v1/archive/segments', () => {
  it("lists the tenant's segments", async () => {
    const res = await t.request('GET', '/v1/archive/segments', { key: keys.arc });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([expect.objectContaining({ tenant: 'arc', from: 0, to: 3, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    const [segment] = res.json().data as { first_received_at: string; last_received_at: string }[];
    const ageDays = (at: string) => (Date.now() - Date.parse(at)) / 86_400_000;
    expect(ageDays(segment!.first_received_at)).toBeGreaterThan(19.9);
    expect(ageDays(segment!.last_received_at)).toBeGreaterThan(19.9);
    expect(ageDays(segment!.last_received_at)).toBeLessThan(20.1);
  });

  it('downloads a segment as stored, and its manifest', async () => {
    const [listed] = (await t.request('GET', '/v1/archive/segments?tenant=arc')).json().data as { sha256: string; bytes: number }[];
    const res = await t.request('GET', '/v1/archive/segments/arc/0', { key: keys.arc });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(createHash('sha256').update(res.rawPayload).digest('hex')).toBe(listed!.sha256);
    const manifest = await t.request('GET', '/v1/archive/segments/arc/0/manifest', { key: keys.arc });
    expect(manifest.json()).toMatchObject({
      format: 'trailproof-archive-manifest',
      tenant: 'arc',
      from: 0,
      to: 3,
      sha256: listed!.sha256,
      bytes: listed!.bytes,
    });
    const missing = await t.request('GET', '/v1/archive/segments/arc/1', { key: keys.arc });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });
});

describe('GET /v1/archive/events/{tenant}/{index}', () => {
  it('gives a purged event with a proof that verifies, with the project verifier and an independent one', async () => {
    expect((await t.request('GET', '/v1/events?tenant=arc&actor=arc-bob')).json().data).toEqual([]);
    const res = await t.request('GET', '/v1/archive/events/arc/1', { key: keys.arc });
    expect(res.statusCode).toBe(200);
    const archived = res.json() as EventProofInput & { event: object; salt: string; erased: boolean };
    expect(archived).toMatchObject({ erased: false, leaf_index: 1, event: { actor: { id: 'arc-bob' } }, envelope: { tenant: 'arc', index: 1 } });
    expect(verifyEventProof(archived, [vkey])).toMatchObject({ ok: true, index: 1, event_checked: true });

    const commitment = createHash('sha256').update(Buffer.from(archived.salt, 'hex')).update(canonicalize(archived.event)!).digest('hex');
    expect(commitment).toBe(archived.envelope.commitment);
    const leaf = hashLeaf(Buffer.from(canonicalize(archived.envelope)!, 'utf8'));
    expect(verifyTlogProof(archived.proof, vkey, leaf, { origin: 'test.trailproof/t/arc' }).index).toBe(1n);

    // A proof of another leaf does not pass for this one.
    const other = (await t.request('GET', '/v1/archive/events/arc/2', { key: keys.arc })).json() as { proof: string };
    expect(verifyEventProof({ ...archived, proof: other.proof }, [vkey]).ok).toBe(false);
  });

  it('records the read in the tenant trail', async () => {
    const reads = (await t.request('GET', '/v1/events?tenant=arc&action=audit_log.viewed')).json().data as { metadata: { view?: string } }[];
    expect(reads.some((r) => r.metadata.view === 'archived_event')).toBe(true);
  });

  it('answers 404 for a leaf no segment holds, and refuses a malformed index', async () => {
    const beyond = await t.request('GET', '/v1/archive/events/arc/999', { key: keys.arc });
    expect(beyond.statusCode).toBe(404);
    expect(beyond.json().error.code).toBe('NOT_FOUND');
    const bad = await t.request('GET', '/v1/archive/events/arc/one', { key: keys.arc });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [expect.objectContaining({ pointer: '/index' })] });
  });
});

describe('GET /v1/archive/export', () => {
  it('exports the archived range as JSON Lines with payloads opened', async () => {
    const res = await t.request('GET', '/v1/archive/export?from=1&to=3', { key: keys.arc });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { envelope: { index: number }; event: { actor: { id: string } } });
    expect(lines.map((l) => [l.envelope.index, l.event.actor.id])).toEqual([
      [1, 'arc-bob'],
      [2, 'arc-carol'],
    ]);
  });

  it('refuses an empty range and malformed indices, pointing at them', async () => {
    const empty = await t.request('GET', '/v1/archive/export?from=2&to=2', { key: keys.arc });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({ code: 'QUERY_INVALID', details: [expect.objectContaining({ pointer: '/to', code: 'out_of_range' })] });
    const text = await t.request('GET', '/v1/archive/export?to=end', { key: keys.arc });
    expect(text.json().error).toMatchObject({ code: 'QUERY_INVALID', details: [expect.objectContaining({ pointer: '/to', code: 'invalid_type' })] });
    const negative = await t.request('GET', '/v1/archive/export?from=-1', { key: keys.arc });
    expect(negative.json().error).toMatchObject({ code: 'QUERY_INVALID', details: [expect.objectContaining({ pointer: '/from' })] });
  });
});

describe('tenant scope', () => {
  it.each([
    ['GET', '/v1/archive/segments?tenant=arc'],
    ['GET', '/v1/archive/segments/arc/0'],
    ['GET', '/v1/archive/segments/arc/0/manifest'],
    ['GET', '/v1/archive/events/arc/1'],
    ['GET', '/v1/archive/export?tenant=arc'],
  ] as const)("another tenant's key is refused: %s %s", async (method, url) => {
    const res = await t.request(method, url, { key: keys.other });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'AUTH_FORBIDDEN', details: [expect.objectContaining({ pointer: '/tenant', code: 'tenant_forbidden' })] });
    expect(res.body).not.toContain('arc-bob');
  });

  it("a key reaches only its own tenant's archive without naming it", async () => {
    const res = await t.request('GET', '/v1/archive/export', { key: keys.other });
    expect(res.body).toContain('other-bob');
    expect(res.body).not.toContain('arc-');
  });

  it('refuses requests without a key, and an unbound key naming no tenant', async () => {
    expect((await t.request('GET', '/v1/archive/segments', { key: null })).statusCode).toBe(401);
    const unbound = await t.request('GET', '/v1/archive/segments');
    expect(unbound.json().error).toMatchObject({ code: 'TENANT_REQUIRED', details: [expect.objectContaining({ pointer: '/tenant' })] });
  });
});
