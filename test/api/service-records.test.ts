/**
 * Service records (docs/events.md#service-records): no key can write into the service's namespaces
 * or its operator trail, and every record the service makes is marked `source: "trailproof"` in
 * its committed body — in the read API, in every export format and in the bundle — a mark that
 * cannot be stripped without the ledger noticing.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/event/types.ts';
import { SERVICE_NAMESPACES, SYSTEM_TENANT } from '../../src/event/service-records.ts';
import { cefExtension } from '../../src/export/testing/cef-parser.ts';
import { runSelfAudit } from '../../src/tlog/self-audit.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const keys: Record<string, string> = {};
const actor = { type: 'user', id: 'mallory' };

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  keys.admin = t.adminKey;
  keys.ingestAll = await t.createKey('ingest');
  keys.ingestAcme = await t.createKey('ingest', 'acme');
  keys.adminAcme = await t.createKey('admin', 'acme');
  keys.readAcme = await t.createKey('read', 'acme');
  keys.ingestSystem = await t.createKey('ingest', SYSTEM_TENANT);
});
afterAll(() => t.close());

const post = (key: string, body: unknown) => t.request('POST', '/v1/events', { key, body });
const tenantOf = (key: string) => (key === keys.ingestAcme || key === keys.adminAcme ? {} : { tenant: 'acme' });

describe('POST /v1/events refuses what only the service records', () => {
  it.each(['audit_log.exported', 'audit_log.viewed', 'api_key.revoked', 'tenant.created', 'stream.paused', 'viewer_token.created', 'erasure.done'])(
    '%s, from every kind of key',
    async (action) => {
      for (const name of ['admin', 'ingestAll', 'ingestAcme', 'adminAcme']) {
        const res = await post(keys[name]!, { ...tenantOf(keys[name]!), action, actor });
        expect(res.statusCode, name).toBe(400);
        expect(res.json().error, name).toMatchObject({ code: 'EVENT_INVALID', details: [{ pointer: '/action', code: 'reserved' }] });
      }
    },
  );

  it('every reserved namespace, and only its first segment', async () => {
    for (const ns of SERVICE_NAMESPACES) {
      const res = await post(keys.ingestAcme!, { action: `${ns}.anything`, actor });
      expect(res.json().error?.details?.[0]?.code, ns).toBe('reserved');
    }
    for (const action of ['account.api_key.created', 'tenants.created', 'audit.logged', 'streams.x']) {
      expect((await post(keys.ingestAcme!, { action, actor })).statusCode, action).toBe(201);
    }
  });

  it('the operator trail, named or bound', async () => {
    for (const [key, body] of [
      [keys.admin!, { tenant: SYSTEM_TENANT, action: 'user.login', actor }],
      [keys.ingestAll!, { tenant: SYSTEM_TENANT, action: 'user.login', actor }],
      [keys.ingestSystem!, { action: 'user.login', actor }],
    ] as const) {
      const res = await post(key, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'EVENT_INVALID', details: [{ pointer: '/tenant', code: 'reserved' }] });
    }
  });

  it('the mark itself, and the service client ids', async () => {
    const marked = await post(keys.ingestAcme!, { action: 'user.login', actor, source: 'trailproof' });
    expect(marked.json().error).toMatchObject({ code: 'EVENT_INVALID', details: [{ pointer: '/source', code: 'reserved' }] });
    const id = await post(keys.ingestAcme!, { action: 'user.login', actor, id: 'read-record:1' });
    expect(id.json().error).toMatchObject({ code: 'EVENT_INVALID', details: [{ pointer: '/id', code: 'reserved' }] });
  });

  it('in a batch, rejects each such event and keeps the rest', async () => {
    const res = await post(keys.ingestAll!, {
      events: [
        { tenant: 'acme', action: 'document.read', actor },
        { tenant: 'acme', action: 'audit_log.exported', actor },
        { tenant: SYSTEM_TENANT, action: 'document.read', actor },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted.map((a: { index: number }) => a.index)).toEqual([0]);
    expect(res.json().rejected).toEqual([
      { index: 1, errors: [expect.objectContaining({ pointer: '/events/1/action', code: 'reserved' })] },
      { index: 2, errors: [expect.objectContaining({ pointer: '/events/2/tenant', code: 'reserved' })] },
    ]);
  });

  it('stored nothing it refused', async () => {
    const rows = await t.db.sql<{ n: number }[]>`
      select count(*)::int as n from events where actor_id = 'mallory' and (tenant_id = ${SYSTEM_TENANT} or action like 'audit\\_log.%' or body ? 'source')`;
    expect(rows[0]!.n).toBe(0);
  });
});

describe('the mark', () => {
  let serviceUid: string;
  let clientUid: string;

  beforeAll(async () => {
    clientUid = (await post(keys.ingestAcme!, { action: 'document.read', actor: { type: 'user', id: 'alice' } })).json().uid;
    // A read of one event: its record is a service record.
    expect((await t.request('GET', `/v1/events/${clientUid}`, { key: keys.readAcme })).statusCode).toBe(200);
    await t.services.readRecords.flush();
    const page = await t.request('GET', '/v1/events?action=audit_log.viewed', { key: keys.readAcme });
    serviceUid = page.json().data[0].uid;
  });

  it('is on service records in the read API, and on nothing else', async () => {
    const all = (await t.request('GET', '/v1/events?limit=1000', { key: keys.readAcme })).json().data as StoredEvent[];
    const service = all.filter((e) => e.source === 'trailproof');
    expect(service.map((e) => e.uid)).toContain(serviceUid);
    expect(new Set(service.map((e) => e.action))).toEqual(new Set(['api_key.created', 'audit_log.viewed']));
    expect(all.filter((e) => e.source === undefined).map((e) => e.action)).not.toContainEqual(expect.stringMatching(/^(api_key|audit_log)\./));
    expect((await t.request('GET', `/v1/events/${serviceUid}`, { key: keys.readAcme })).json()).toMatchObject({ source: 'trailproof' });
    expect((await t.request('GET', `/v1/events/${clientUid}`, { key: keys.readAcme })).json()).not.toHaveProperty('source');
    const system = (await t.request('GET', `/v1/events?tenant=${SYSTEM_TENANT}&limit=1000`)).json().data as StoredEvent[];
    expect(system.length).toBeGreaterThan(0);
    expect(system.every((e) => e.source === 'trailproof')).toBe(true);
  });

  it('is in every export format', async () => {
    const exported = async (format: string) => {
      const res = await t.request('GET', `/v1/exports?format=${format}&action=audit_log.viewed`, { key: keys.readAcme });
      expect(res.statusCode, format).toBe(200);
      return res.body;
    };
    const lines = (text: string) => text.split('\n').filter((l) => l !== '');
    const marks: Record<string, (text: string) => string[]> = {
      jsonl: (text) => lines(text).map((l) => JSON.parse(l).source),
      hec: (text) => lines(text).map((l) => JSON.parse(l).event.source),
      ecs: (text) => lines(text).map((l) => JSON.parse(l).event.provider),
      ocsf: (text) => lines(text).map((l) => JSON.parse(l).unmapped.source),
      csv: (text) => (parseCsv(text, { columns: true }) as Record<string, string>[]).map((r) => r.source!),
      cef: (text) => lines(text).map((l) => (cefExtension(l).flexString1Label === 'source' ? cefExtension(l).flexString1! : '')),
      syslog: (text) => [...text.matchAll(/ source="([^"]*)"/g)].map((m) => m[1]!),
    };
    for (const [format, read] of Object.entries(marks)) {
      const found = read(await exported(format));
      expect(found.length, format).toBeGreaterThan(0);
      expect(new Set(found), format).toEqual(new Set(['trailproof']));
    }
    const client = (await t.request('GET', '/v1/exports?format=csv&actor=alice', { key: keys.readAcme })).body;
    expect((parseCsv(client, { columns: true }) as Record<string, string>[]).map((r) => r.source)).toEqual(['']);
  });

  it('is in the bundle, inside the committed event text', async () => {
    const res = await t.request('GET', '/v1/exports?format=bundle', { key: keys.readAcme });
    const leaves = lines(res.body)
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'leaf');
    const byUid = new Map(leaves.map((l) => [l.uid, l.event]));
    expect(byUid.get(serviceUid)).toMatchObject({ action: 'audit_log.viewed', source: 'trailproof' });
    expect(byUid.get(clientUid)).not.toHaveProperty('source');
  });

  it('cannot be stripped without the self-audit naming the event', async () => {
    const before = await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'acme' });
    expect(before.ok).toBe(true);
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update events set body = body - 'source' where uid = ${serviceUid}`;
    });
    const after = await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'acme' });
    expect(after.ok).toBe(false);
    const [row] = await t.db.sql<{ seq: number }[]>`select seq from events where uid = ${serviceUid}`;
    expect(after.tenants.acme!.first).toMatchObject({ index: row!.seq });
  });
});

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
