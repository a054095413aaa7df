/**
 * Viewer tokens (`tpv_…`): minted by admin keys, read-only, one tenant, narrowed to actions or
 * targets on every read, refused when expired or forged, and every session recorded.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let adminA: string;
let readA: string;
const SECRET = 'viewer-secret-for-tests-0123456789abcdef';

const event = (action: string, actor: string, targets: { type: string; id: string }[] = []) => ({ action, actor: { type: 'user', id: actor }, targets });

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_VIEWER_SECRET: SECRET });
  await t.createTenant('acme');
  await t.createTenant('globex');
  adminA = await t.createKey('admin', 'acme');
  readA = await t.createKey('read', 'acme');
  const ingestA = await t.createKey('ingest', 'acme');
  const ingestB = await t.createKey('ingest', 'globex');
  await t.request('POST', '/v1/events', {
    key: ingestA,
    body: {
      events: [
        event('user.login', 'alice'),
        event('user.logout', 'alice'),
        event('document.read', 'bob', [{ type: 'document', id: 'doc-1' }]),
        event('document.update', 'bob', [{ type: 'document', id: 'doc-2' }]),
      ],
    },
  });
  await t.request('POST', '/v1/events', { key: ingestB, body: event('user.login', 'carol') });
});
afterAll(() => t.close());

async function mint(body: Record<string, unknown>, key = adminA): Promise<string> {
  const res = await t.request('POST', '/v1/viewer-tokens', { key, body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token as string;
}

async function actions(token: string, query = ''): Promise<string[]> {
  const res = await t.request('GET', `/v1/events?limit=1000${query}`, { key: token });
  expect(res.statusCode, res.body).toBe(200);
  const data = res.json().data as { action: string; tenant: string }[];
  expect(new Set(data.map((e) => e.tenant))).toEqual(new Set(data.length ? ['acme'] : []));
  // The trail also holds the meta-audit of these very reads, mints and key creations: leave those out.
  return data
    .map((e) => e.action)
    .filter((a) => /^(user|document)\./.test(a))
    .sort();
}

describe('minting', () => {
  it('needs an admin key; a tenant-bound admin key mints only for its tenant', async () => {
    expect((await t.request('POST', '/v1/viewer-tokens', { key: readA, body: {} })).statusCode).toBe(403);
    const other = await t.request('POST', '/v1/viewer-tokens', { key: adminA, body: { tenant: 'globex' } });
    expect(other.json().error.code).toBe('AUTH_FORBIDDEN');
    const unbound = await t.request('POST', '/v1/viewer-tokens', { body: { tenant: 'globex' } });
    expect(unbound.statusCode).toBe(201);
    expect(unbound.json()).toMatchObject({ tenant: 'globex', actions: null, targets: null });
  });

  it('defaults to 15 minutes and refuses more than 24 hours', async () => {
    const res = await t.request('POST', '/v1/viewer-tokens', { key: adminA, body: {} });
    const ttl = Date.parse(res.json().expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    expect((await t.request('POST', '/v1/viewer-tokens', { key: adminA, body: { ttl_seconds: 86_401 } })).statusCode).toBe(400);
  });

  it('is recorded in the tenant trail, without the token', async () => {
    const token = await mint({ actions: ['user.*'] });
    const rows = await t.db.sql`select body from events where tenant_id = 'acme' and action = 'viewer_token.created'`;
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows.map((r) => r.body))).not.toContain(token.slice(4, 40));
  });
});

describe('a viewer token', () => {
  it('sees exactly its tenant', async () => {
    const token = await mint({});
    expect(await actions(token)).toEqual(['document.read', 'document.update', 'user.login', 'user.logout']);
    const other = await t.request('GET', '/v1/events?tenant=globex', { key: token });
    expect(other.json().error.code).toBe('AUTH_FORBIDDEN');
    const globexUid = (await t.db.sql`select uid from ledger_leaves where tenant_id = 'globex' limit 1`)[0]!.uid as string;
    expect((await t.request('GET', `/v1/events/${globexUid}`, { key: token })).statusCode).toBe(404);
    expect((await t.request('GET', `/v1/events/${globexUid}/proof`, { key: token })).statusCode).toBe(404);
  });

  it('narrowed to actions sees only those, in lists, counts and single reads', async () => {
    const token = await mint({ actions: ['user.*'] });
    expect(await actions(token)).toEqual(['user.login', 'user.logout']);
    expect(await actions(token, '&action=document.*')).toEqual([]);
    const histogram = await t.request(
      'GET',
      `/v1/events/histogram?buckets=4&since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}&action=document.*`,
      { key: token },
    );
    expect(histogram.json().total).toBe(0);
    const doc = (await t.db.sql`select uid from events where tenant_id = 'acme' and action = 'document.read'`)[0]!.uid as string;
    expect((await t.request('GET', `/v1/events/${doc}`, { key: token })).statusCode).toBe(404);
    expect((await t.request('GET', `/v1/events/${doc}/proof`, { key: token })).statusCode).toBe(404);
    const login = (await t.db.sql`select uid from events where tenant_id = 'acme' and action = 'user.login'`)[0]!.uid as string;
    expect((await t.request('GET', `/v1/events/${login}/proof`, { key: token })).statusCode).toBe(200);
  });

  it('narrowed exports carry the narrowing and are recorded', async () => {
    const token = await mint({ actions: ['document.*'] });
    const res = await t.request('GET', '/v1/exports?format=jsonl', { key: token });
    expect(res.statusCode, res.body).toBe(200);
    const exported = res.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).action as string);
    expect(exported.sort()).toEqual(['document.read', 'document.update']);
    const rows = await t.db.sql`select 1 from events where tenant_id = 'acme' and action = 'audit_log.exported' and body->'actor'->>'id' like 'tpv:%'`;
    expect(rows.length).toBe(1);
  });

  it('narrowed to targets sees only events naming them', async () => {
    const token = await mint({ targets: [{ type: 'document', id: 'doc-2' }] });
    expect(await actions(token)).toEqual(['document.update']);
    // A cursor from a narrowed query cannot be replayed without the narrowing.
    const page = await t.request('GET', '/v1/events?limit=1', { key: token });
    expect(page.statusCode).toBe(200);
  });

  it('cannot ingest, nor touch keys, tenants, tiles or checkpoints', async () => {
    const token = await mint({});
    const attempts = [
      await t.request('POST', '/v1/events', { key: token, body: event('user.login', 'mallory') }),
      await t.request('GET', '/v1/keys', { key: token }),
      await t.request('POST', '/v1/keys', { key: token, body: { name: 'x', scope: 'read' } }),
      await t.request('GET', '/v1/tenants', { key: token }),
      await t.request('POST', '/v1/tenants', { key: token, body: { id: 'evil' } }),
      await t.request('POST', '/v1/viewer-tokens', { key: token, body: {} }),
      await t.request('GET', '/t/acme/checkpoint', { key: token }),
      await t.request('GET', '/v1/ledger/status', { key: token }),
    ];
    expect(attempts.map((r) => r.statusCode)).toEqual(attempts.map(() => 403));
    expect(attempts.map((r) => r.json().error.code)).toEqual(attempts.map(() => 'AUTH_FORBIDDEN'));
  });

  it('expired → 401 VIEWER_TOKEN_EXPIRED; forged or altered → 401 VIEWER_TOKEN_INVALID', async () => {
    const token = await mint({ actions: ['user.*'] });
    const [payload, signature] = token.slice(4).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const resign = (c: unknown, secret: string) => {
      const p = Buffer.from(JSON.stringify(c)).toString('base64url');
      return `tpv_${p}.${createHmac('sha256', secret).update(`trailproof viewer token v1\n${p}`).digest('base64url')}`;
    };
    const expired = resign({ ...claims, exp: Math.floor(Date.now() / 1000) - 1 }, SECRET);
    const widened = `tpv_${Buffer.from(JSON.stringify({ ...claims, a: undefined })).toString('base64url')}.${signature}`;
    const otherSecret = resign({ ...claims, t: 'globex' }, 'not-the-server-secret-0123456789abcdef');
    const cases: [string, string][] = [
      [expired, 'VIEWER_TOKEN_EXPIRED'],
      [widened, 'VIEWER_TOKEN_INVALID'],
      [otherSecret, 'VIEWER_TOKEN_INVALID'],
      ['tpv_garbage', 'VIEWER_TOKEN_INVALID'],
    ];
    for (const [bad, code] of cases) {
      const res = await t.request('GET', '/v1/events', { key: bad });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe(code);
    }
    // The untouched token still works (the test is not vacuous).
    expect((await t.request('GET', '/v1/events', { key: token })).statusCode).toBe(200);
  });

  it('dies with the key that minted it: 401 VIEWER_TOKEN_REVOKED', async () => {
    const created = await t.request('POST', '/v1/keys', { body: { name: 'backend', scope: 'admin', tenant: 'acme' } });
    const { id, secret } = created.json() as { id: string; secret: string };
    const token = await mint({}, secret);
    const other = await mint({});
    expect((await t.request('GET', '/v1/events', { key: token })).statusCode).toBe(200);
    expect((await t.request('DELETE', `/v1/keys/${id}`)).statusCode).toBe(204);
    for (const [method, url] of [
      ['GET', '/v1/events'],
      ['POST', '/v1/viewer/sessions'],
    ] as const) {
      const res = await t.request(method, url, { key: token });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code, url).toBe('VIEWER_TOKEN_REVOKED');
    }
    // A token of another, live key is untouched.
    expect((await t.request('GET', '/v1/events', { key: other })).statusCode).toBe(200);
  });

  it("minted with alerts, also lists its tenant's alert firings, without their delivery; otherwise refused", async () => {
    const rule = await t.request('POST', '/v1/alert-rules', {
      key: adminA,
      body: { name: 'viewer alarm', kind: 'threshold', filter: { action: 'alarm.raised' }, params: { count: 1, window_seconds: 60, group_by: 'actor' } },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    const ruleB = await t.request('POST', '/v1/alert-rules', {
      body: {
        tenant: 'globex',
        name: 'globex alarm',
        kind: 'threshold',
        filter: { action: 'alarm.raised' },
        params: { count: 1, window_seconds: 60, group_by: 'actor' },
      },
    });
    expect(ruleB.statusCode, ruleB.body).toBe(201);
    await t.request('POST', '/v1/events', { body: { tenant: 'acme', ...event('alarm.raised', 'alice') } });
    await t.request('POST', '/v1/events', { body: { tenant: 'globex', ...event('alarm.raised', 'carol') } });
    await t.services.alerts.follower.catchUp();

    const token = await mint({ alerts: true });
    const session = await t.request('POST', '/v1/viewer/sessions', { key: token });
    expect(session.json()).toMatchObject({ tenant: 'acme', alerts: true });
    const res = await t.request('GET', '/v1/alert-firings', { key: token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual([
      {
        id: expect.any(String),
        rule: rule.json().id,
        rule_name: 'viewer alarm',
        tenant: 'acme',
        group: 'alice',
        window_start: expect.any(String),
        fired_at: expect.any(String),
        summary: expect.any(String),
      },
    ]);
    expect((await t.request('GET', '/v1/alert-firings?tenant=globex', { key: token })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/alert-rules', { key: token })).statusCode).toBe(403);
    expect((await t.request('GET', `/v1/alert-rules/${rule.json().id}/firings`, { key: token })).statusCode).toBe(403);
    // API keys still see delivery.
    expect((await t.request('GET', '/v1/alert-firings', { key: readA })).json().data[0]).toHaveProperty('attempts');

    const plain = await t.request('GET', '/v1/alert-firings', { key: await mint({}) });
    expect(plain.statusCode).toBe(403);
    expect(plain.json().error.code).toBe('AUTH_FORBIDDEN');
    const narrowed = await t.request('POST', '/v1/viewer-tokens', { key: adminA, body: { alerts: true, actions: ['user.*'] } });
    expect(narrowed.statusCode).toBe(400);
    expect(narrowed.json().error).toMatchObject({ code: 'REQUEST_INVALID', details: [{ pointer: '/alerts' }] });
  });

  it('records each session start in its tenant', async () => {
    const token = await mint({ targets: [{ type: 'document', id: 'doc-1' }] });
    const res = await t.request('POST', '/v1/viewer/sessions', { key: token });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ tenant: 'acme', targets: [{ type: 'document', id: 'doc-1' }] });
    const rows = await t.db.sql`select body from events where tenant_id = 'acme' and action = 'viewer.session_started'`;
    expect(rows.map((r) => r.body.targets[0].id)).toContain(res.json().id);
  });
});

describe('GET /v1/whoami', () => {
  it('describes a read or admin key, and refuses ingest keys and viewer tokens', async () => {
    const res = await t.request('GET', '/v1/whoami', { key: readA });
    expect(res.json()).toMatchObject({ scope: 'read', tenant: 'acme', key_id: expect.any(String) });
    expect((await t.request('GET', '/v1/whoami')).json()).toMatchObject({ scope: 'admin', tenant: null });
    expect((await t.request('GET', '/v1/whoami', { key: await t.createKey('ingest', 'acme') })).statusCode).toBe(403);
    expect((await t.request('GET', '/v1/whoami', { key: await mint({}) })).statusCode).toBe(403);
  });
});

describe('CORS for the embedded viewer', () => {
  it('answers preflights and allows any origin without credentials', async () => {
    const pre = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
  });
});
