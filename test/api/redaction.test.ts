/**
 * Redaction at the door: the default rules keep a list of secrets out of everything stored and
 * exported (every table, read as the superuser; every export format); keyed-hash rules still let a
 * search by the original value find the event; the rules' routes validate and are tenant-scoped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { BUNDLE_EXPORT } from '../../src/export/bundle-export.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { dumpAllRows } from '../helpers/dump.ts';

let t: TestApp;
let adminA: string;
let readA: string;
let adminB: string;

/** What must never be stored: each appears in the event below under a name or shape the defaults catch. */
const SECRETS = [
  'hunter2-correct-horse',
  'tok_live_9f8e7d6c5b4a',
  'eyJhbGciOiJIUzI1NiJ9.payload.sig',
  'sess-7b1e2f9c',
  '4111 1111 1111 1111',
  '5500000000000004',
  'old-Passw0rd!',
  'new-Passw0rd!',
  'AKIAIOSFODNN7EXAMPLE-secret',
  'csrf-cookie-value-31337',
];

const leaky = {
  action: 'user.password_changed',
  actor: { type: 'user', id: 'alice', metadata: { api_key: SECRETS[1] } },
  targets: [{ type: 'user', id: 'alice', metadata: { card: SECRETS[4] } }],
  context: { ip: '203.0.113.7', session_id: SECRETS[3] },
  reason: `refund to card ${SECRETS[5]}`,
  changes: [{ field: 'password', before: SECRETS[6], after: SECRETS[7] }],
  metadata: {
    password: SECRETS[0],
    headers: { Authorization: `Bearer ${SECRETS[2]}`, Cookie: SECRETS[9], 'user-agent': 'curl' },
    aws: { secret_access_key: SECRETS[8] },
    plan: 'pro',
  },
};

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  await t.createTenant('ra');
  await t.createTenant('rb');
  adminA = await t.createKey('admin', 'ra');
  readA = await t.createKey('read', 'ra');
  adminB = await t.createKey('admin', 'rb');
});
afterAll(() => t.close());

describe('the default rules', () => {
  it('say what they redacted, and no secret reaches a table, an answer or an export', async () => {
    const res = await t.request('POST', '/v1/events', { key: adminA, body: leaky });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().redacted).toEqual([
      '/context/session_id',
      '/metadata/password',
      '/metadata/headers/Authorization',
      '/metadata/headers/Cookie',
      '/metadata/aws/secret_access_key',
      '/actor/metadata/api_key',
      '/targets/0/metadata/card',
      '/reason',
      '/changes/0/before',
      '/changes/0/after',
    ]);
    const batch = await t.request('POST', '/v1/events', { key: adminA, body: { events: [leaky, { ...leaky, metadata: { plan: 'free' } }] } });
    expect(batch.json().accepted[0].redacted).toHaveLength(10);
    expect(batch.json().accepted[1].redacted).toHaveLength(6);

    const read = await t.request('GET', '/v1/events?action=user.password_changed', { key: readA });
    expect(read.json().data).toHaveLength(3);
    expect(read.json().data.at(-1).metadata).toEqual({ headers: { 'user-agent': 'curl' }, aws: {}, plan: 'pro' });
    const seen = [read.body, await dumpAllRows(t.db.ownerSql)];
    for (const format of [...EVENT_FORMATS.keys(), BUNDLE_EXPORT.name]) {
      const exported = await t.request('GET', `/v1/exports?format=${format}`, { key: readA });
      expect(exported.statusCode, `${format}: ${exported.body}`).toBe(200);
      seen.push(exported.body);
    }
    for (const text of seen) for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  it('stay on when a tenant adds its own rules, and go off only when asked', async () => {
    const put = await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: { rules: [{ key: 'plan', action: 'remove' }] } });
    expect(put.statusCode, put.body).toBe(200);
    const res = await t.request('POST', '/v1/events', { key: adminA, body: leaky });
    expect(res.json().redacted).toContain('/metadata/plan');
    expect(res.json().redacted).toContain('/metadata/password');
    await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: { defaults: false, rules: [] } });
    const off = await t.request('POST', '/v1/events', { key: adminA, body: { action: 'x.y', actor: { type: 'user', id: 'a' }, metadata: { token: 't' } } });
    expect(off.json().redacted).toBeUndefined();
    await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: {} });
    const changes = await t.request('GET', '/v1/events?action=tenant.redaction_updated', { key: readA });
    expect(changes.json().data.map((e: { metadata: unknown }) => e.metadata)).toEqual([
      { defaults: true, rules: 0 },
      { defaults: false, rules: 0 },
      { defaults: true, rules: 1 },
    ]);
  });
});

describe('keyed-hash rules', () => {
  it('store the hash, and a search by the original value still finds the event', async () => {
    const rules = [
      { path: 'actor.id', action: 'hash' },
      { path: 'targets.*.id', action: 'hash' },
      { path: 'metadata.email', action: 'hash' },
    ];
    expect((await t.request('PUT', '/v1/tenants/rb/redaction', { key: adminB, body: { rules } })).statusCode).toBe(200);
    const res = await t.request('POST', '/v1/events', {
      key: adminB,
      body: {
        action: 'doc.shared',
        actor: { type: 'user', id: 'bob@example.com' },
        targets: [{ type: 'doc', id: 'doc-42' }],
        metadata: { email: 'carol@example.com' },
      },
    });
    expect(res.json().redacted).toEqual(['/actor/id', '/targets/0/id', '/metadata/email']);
    const dump = await dumpAllRows(t.db.ownerSql);
    for (const value of ['bob@example.com', 'doc-42', 'carol@example.com']) expect(dump).not.toContain(value);

    for (const query of ['actor=bob%40example.com', 'target_type=doc&target_id=doc-42', 'q=carol%40example.com']) {
      const found = await t.request('GET', `/v1/events?action=doc.shared&${query}`, { key: adminB });
      expect(found.json().data, query).toHaveLength(1);
      expect(found.json().data[0].actor.id).toMatch(/^hmac:[0-9a-f]{32}$/);
      const exported = await t.request('GET', `/v1/exports?format=jsonl&action=doc.shared&${query}`, { key: adminB });
      expect(exported.body.trim().split('\n'), query).toHaveLength(1);
    }
    const other = await t.request('GET', '/v1/events?action=doc.shared&actor=someone-else', { key: adminB });
    expect(other.json().data).toHaveLength(0);
    // The same value hashes differently in another tenant (each has its own key).
    await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: { rules } });
    await t.request('POST', '/v1/events', { key: adminA, body: { action: 'doc.shared', actor: { type: 'user', id: 'bob@example.com' } } });
    const [a, b] = await Promise.all(
      [adminA, adminB].map(async (key) => (await t.request('GET', '/v1/events?action=doc.shared&actor=bob%40example.com', { key })).json().data[0].actor.id),
    );
    expect(a).not.toBe(b);
  });
});

describe('/v1/tenants/{tenant}/redaction', () => {
  it('shows the settings and the default rules', async () => {
    const res = await t.request('GET', '/v1/tenants/rb/redaction');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenant: 'rb', defaults: true });
    expect(res.json().rules).toContainEqual({ path: 'actor.id', action: 'hash' });
    expect(res.json().default_rules).toContainEqual({ detect: 'card_number', action: 'remove' });
  });

  it('validates, pointing at the rule', async () => {
    const res = await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: { rules: [{ path: 'occurred_at', action: 'remove' }] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [{ pointer: '/rules/0/path', code: 'reserved' }] });
    const notObject = await t.request('PUT', '/v1/tenants/ra/redaction', { key: adminA, body: [] });
    expect(notObject.statusCode).toBe(400);
  });

  it("never lets a key read or change another tenant's rules", async () => {
    for (const [method, key] of [
      ['GET', adminA],
      ['PUT', adminA],
      ['GET', readA],
    ] as const) {
      const res = await t.request(method, '/v1/tenants/rb/redaction', { key, ...(method === 'PUT' ? { body: { defaults: false } } : {}) });
      expect(res.statusCode, `${method} ${res.body}`).toBe(403);
    }
    expect((await t.request('PUT', '/v1/tenants/ra/redaction', { key: readA, body: {} })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/tenants/nope/redaction')).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/tenants/rb/redaction', { key: null })).statusCode).toBe(401);
    const token = (await t.request('POST', '/v1/viewer-tokens', { key: adminA, body: {} })).json().token as string;
    expect((await t.request('GET', '/v1/tenants/ra/redaction', { key: token })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/tenants/rb/redaction')).json().defaults).toBe(true);
  });
});
