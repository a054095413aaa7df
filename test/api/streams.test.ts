/**
 * /v1/streams: create, list, read, change, pause, resume, replay, delete, status; admin scope and
 * tenant isolation; every change audited; secrets encrypted at rest and never returned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESTINATION_KINDS } from '../../src/stream/destinations.ts';
import { STREAM_KINDS } from '../../web/src/stream-kinds.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const SECRET = 'whsec_never_returned_0123456789abcdef';
let t: TestApp;
let adminA: string;
let adminB: string;
let readA: string;

const hook = (extra: Record<string, unknown> = {}) => ({
  tenant: 'sa',
  name: 'siem hook',
  kind: 'webhook',
  config: { url: 'https://siem.example/hook' },
  secret: SECRET,
  ...extra,
});

async function ingest(tenant: string, count: number): Promise<void> {
  const res = await t.request('POST', '/v1/events', {
    body: { events: Array.from({ length: count }, (_, i) => ({ tenant, action: 'doc.read', actor: { type: 'user', id: `u${i}` } })) },
  });
  expect(res.statusCode).toBe(200);
}

async function auditActions(tenant: string): Promise<{ action: string; targets: { id: string }[]; metadata?: Record<string, unknown> }[]> {
  const res = await t.request('GET', `/v1/events?tenant=${tenant}&action=stream.*&limit=100&sort=asc`);
  return (res.json() as { data: { action: string; targets: { id: string }[] }[] }).data;
}

async function headOf(tenant: string): Promise<number> {
  return (await t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${tenant}`)[0]!.size;
}

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  await t.createTenant('sa');
  await t.createTenant('sb');
  adminA = await t.createKey('admin', 'sa');
  adminB = await t.createKey('admin', 'sb');
  readA = await t.createKey('read', 'sa');
});
afterAll(() => t.close());

describe('/v1/streams', () => {
  it('creates a destination starting at the head, stores its secret encrypted and never returns it', async () => {
    await ingest('sa', 5);
    const headBefore = await headOf('sa');
    const res = await t.request('POST', '/v1/streams', { body: hook() });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      tenant: 'sa',
      name: 'siem hook',
      kind: 'webhook',
      format: 'jsonl',
      has_secret: true,
      status: 'active',
      cursor: headBefore,
      filter: {},
    });
    expect(res.body).not.toContain(SECRET);
    const [row] = await t.db.ownerSql<{ secret: Buffer }[]>`select secret from stream_destinations where id = ${created.id}`;
    expect(row!.secret.toString('latin1')).not.toContain(SECRET);
    expect(t.services.streams).toBeDefined();
    for (const url of ['/v1/streams?tenant=sa', `/v1/streams/${created.id}`, `/v1/streams/${created.id}/status`]) {
      expect((await t.request('GET', url)).body).not.toContain(SECRET);
    }
  });

  it('rejects what it cannot deliver: unknown kind, wrong format, missing secret or URL, bad filter, duplicate name', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [hook({ kind: 'ftp' }), 'REQUEST_INVALID', '/kind'],
      [hook({ kind: 'splunk_hec', format: 'csv', name: 'x1' }), 'REQUEST_INVALID', '/format'],
      [hook({ secret: undefined, name: 'x2' }), 'REQUEST_INVALID', '/secret'],
      [hook({ config: {}, name: 'x3' }), 'REQUEST_INVALID', '/config/url'],
      [hook({ filter: { actions: ['bad action!'] }, name: 'x4' }), 'REQUEST_INVALID', '/filter/actions/0'],
      [hook({ kind: 'syslog', config: { host: 'h', port: 514 }, name: 'x5' }), 'REQUEST_INVALID', '/secret'],
      [hook(), 'STREAM_EXISTS', '/name'],
    ];
    for (const [body, code, pointer] of cases) {
      const res = await t.request('POST', '/v1/streams', { body: JSON.parse(JSON.stringify(body)) });
      expect(res.json().error, JSON.stringify(body)).toMatchObject({ code, details: [expect.objectContaining({ pointer })] });
    }
  });

  it('changes, pauses, resumes and replays; every change is an audit event in the tenant, without the secret', async () => {
    const id = (await t.request('GET', '/v1/streams?tenant=sa')).json().data[0].id as string;
    const patched = await t.request('PATCH', `/v1/streams/${id}`, {
      body: { filter: { actions: ['user.*', 'doc.read'], outcome: 'failure' }, secret: 'a new secret' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ filter: { actions: ['user.*', 'doc.read'], outcome: 'failure' }, has_secret: true });
    expect((await t.request('PATCH', `/v1/streams/${id}`, { body: { status: 'paused' } })).json()).toMatchObject({
      status: 'paused',
      paused_reason: 'paused by an operator',
    });
    expect((await t.request('POST', `/v1/streams/${id}/resume`)).json()).toMatchObject({ status: 'active', paused_reason: null, attempts: 0 });
    const replayed = await t.request('POST', `/v1/streams/${id}/replay`, { body: { since: '2000-01-01T00:00:00Z' } });
    expect(replayed.json()).toMatchObject({ cursor: 0 });
    const head = await headOf('sa');
    const future = await t.request('POST', `/v1/streams/${id}/replay`, { body: { since: '2999-01-01T00:00:00Z' } });
    expect(future.json().cursor).toBe(head);
    expect((await t.request('POST', `/v1/streams/${id}/replay`, { body: { since: 'yesterday' } })).json().error).toMatchObject({ code: 'REQUEST_INVALID' });

    const audit = await auditActions('sa');
    expect(audit.map((e) => e.action)).toEqual(['stream.created', 'stream.updated', 'stream.paused', 'stream.resumed', 'stream.replayed', 'stream.replayed']);
    expect(audit.every((e) => e.targets[0]!.id === id)).toBe(true);
    expect(audit[1]!.metadata).toEqual({ fields: ['filter', 'secret'] });
    expect(JSON.stringify(audit)).not.toContain('a new secret');
  });

  it('reports status: lag in events and seconds, last success and error', async () => {
    const id = (await t.request('GET', '/v1/streams?tenant=sa')).json().data[0].id as string;
    await t.request('POST', `/v1/streams/${id}/replay`, { body: { since: '2000-01-01T00:00:00Z' } });
    const status = (await t.request('GET', `/v1/streams/${id}/status`)).json();
    const head = await headOf('sa');
    expect(status).toMatchObject({ id, status: 'active', cursor: 0, head, lag_events: head, last_success_at: null, last_error: null, attempts: 0 });
    expect(status.lag_seconds).toBeGreaterThan(0);
    expect(status.lag_seconds).toBeLessThan(120);
  });

  it("isolates tenants: a bound admin key sees and changes only its tenant's streams; read keys cannot manage streams", async () => {
    const id = (await t.request('GET', '/v1/streams?tenant=sa')).json().data[0].id as string;
    expect((await t.request('GET', '/v1/streams', { key: adminA })).json().data.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await t.request('GET', '/v1/streams', { key: adminB })).json().data).toEqual([]);
    for (const [method, url, body] of [
      ['GET', `/v1/streams/${id}`],
      ['GET', `/v1/streams/${id}/status`],
      ['PATCH', `/v1/streams/${id}`, { name: 'stolen' }],
      ['POST', `/v1/streams/${id}/resume`],
      ['POST', `/v1/streams/${id}/replay`, { since: '2000-01-01T00:00:00Z' }],
      ['DELETE', `/v1/streams/${id}`],
    ] as const) {
      const res = await t.request(method, url, { key: adminB, ...(body ? { body } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await t.request('POST', '/v1/streams', { key: adminB, body: hook({ name: 'sneaky' }) })).json().error.code).toBe('AUTH_FORBIDDEN');
    expect((await t.request('GET', '/v1/streams', { key: readA })).statusCode).toBe(403);
    expect((await t.request('GET', `/v1/streams/${id}`, { key: adminA })).statusCode).toBe(200);
    expect((await t.request('GET', `/v1/streams/${id}`, { key: null })).statusCode).toBe(401);
  });

  it('deletes, audited', async () => {
    const id = (await t.request('GET', '/v1/streams?tenant=sa')).json().data[0].id as string;
    expect((await t.request('DELETE', `/v1/streams/${id}`, { key: adminA })).statusCode).toBe(204);
    expect((await t.request('GET', `/v1/streams/${id}`)).statusCode).toBe(404);
    expect((await auditActions('sa')).at(-1)!.action).toBe('stream.deleted');
  });

  it("lets the service role change state and configuration but never a destination's tenant or kind", async () => {
    const created = (await t.request('POST', '/v1/streams', { body: hook({ name: 'fixed' }) })).json();
    await expect(t.db.sql`update stream_destinations set tenant_id = 'sb' where id = ${created.id}`).rejects.toThrow(/permission denied/);
    await expect(t.db.sql`update stream_destinations set kind = 'syslog' where id = ${created.id}`).rejects.toThrow(/permission denied/);
    await t.db.sql`update stream_destinations set cursor_seq = 1 where id = ${created.id}`;
  });
});

describe("the console's destination forms (web/src/stream-kinds.ts)", () => {
  it("offer exactly the server's kinds, formats (default first) and secrets", () => {
    expect(STREAM_KINDS.map((k) => k.kind)).toEqual([...DESTINATION_KINDS.keys()]);
    for (const form of STREAM_KINDS) {
      const kind = DESTINATION_KINDS.get(form.kind)!;
      expect(form.formats, form.kind).toEqual(kind.formats);
      expect(form.secret !== undefined, form.kind).toBe(kind.secret !== undefined);
      if (kind.secret) expect(kind.secret.required, form.kind).toBe(true);
    }
  });

  it('name only settings the server accepts, and every required one', () => {
    const sample = { text: 'x', url: 'https://example.com/x', port: 514, flag: true, pem: '-----BEGIN CERTIFICATE-----' } as const;
    for (const form of STREAM_KINDS) {
      const kind = DESTINATION_KINDS.get(form.kind)!;
      for (const field of form.config) {
        const pointers = (() => {
          try {
            kind.parseConfig({ [field.name]: sample[field.type] });
            return [];
          } catch (err) {
            return ((err as { details?: { pointer: string; message: string }[] }).details ?? []).map((d) => `${d.pointer} ${d.message}`);
          }
        })();
        expect(
          pointers.filter((p) => p.includes('is not a setting')),
          `${form.kind}.${field.name}`,
        ).toEqual([]);
      }
      // With only the settings the form marks required, the server finds nothing missing.
      const required = Object.fromEntries(form.config.filter((f) => f.required).map((f) => [f.name, f.name === 'bucket' ? 'audit-bucket' : sample[f.type]]));
      expect(() => kind.parseConfig(required), form.kind).not.toThrow();
    }
  });
});
