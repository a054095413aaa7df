/** The ledger read API: verifier keys, checkpoint, tiles, proofs, consistency, status, and who may read them. */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey, openNote, parseVerifierKey } from '../../src/ledger/note.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const oldKey = generateSignerKey('test.trailproof');
const keys = {} as Record<'aRead' | 'aIngest' | 'bRead', string>;
const aUids: string[] = [];
let bUid: string;

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_LEDGER_VERIFIER_KEYS: oldKey.verifierKey });
  await t.createTenant('tenant-a');
  await t.createTenant('tenant-b');
  keys.aRead = await t.createKey('read', 'tenant-a');
  keys.aIngest = await t.createKey('ingest', 'tenant-a');
  keys.bRead = await t.createKey('read', 'tenant-b');
  const events = Array.from({ length: 300 }, (_, i) => ({ action: 'user.login', actor: { type: 'user', id: `u${i}` } }));
  const a = await t.request('POST', '/v1/events', { key: keys.aIngest, body: { events } });
  aUids.push(...a.json().accepted.map((x: { uid: string }) => x.uid));
  const b = await t.request('POST', '/v1/events', { body: { tenant: 'tenant-b', action: 'secret.thing', actor: { type: 'user', id: 'bob' } } });
  bUid = b.json().uid;
}, 60_000);
afterAll(() => t.close());

const get = (url: string, key: string | null = keys.aRead, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });

describe('GET /v1/ledger/key', () => {
  it('publishes the verifier keys without authentication, current first, old keys after', async () => {
    const res = await get('/v1/ledger/key', null);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe(`${t.services.ledgerKeys.verifierKey}\n${oldKey.verifierKey}\n`);
  });

  it('with a tenant, gives the keys under its origin, which open its checkpoints', async () => {
    const res = await get('/v1/ledger/key?tenant=tenant-a', null);
    const lines = res.body.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^test\.trailproof\/t\/tenant-a\+[0-9a-f]{8}\+/);
    const note = (await get('/t/tenant-a/checkpoint')).body;
    expect(openNote(note, [parseVerifierKey(lines[0]!)]).verified).toHaveLength(1);
    expect((await get('/v1/ledger/key?tenant=Not%20A%20Tenant', null)).json().error.code).toBe('QUERY_INVALID');
  });
});

describe('GET /t/{tenant}/checkpoint and tiles', () => {
  it('serves the newest checkpoint, barely cacheable', async () => {
    const res = await get('/t/tenant-a/checkpoint');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, max-age=1');
    expect(res.body).toMatch(/^test\.trailproof\/t\/tenant-a\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 /);
  });

  it('serves tiles within the checkpoint as immutable, and 404 for any other tile', async () => {
    const size = Number((await get('/t/tenant-a/checkpoint')).body.split('\n')[1]);
    expect(size).toBeGreaterThan(256);
    expect(size).toBeLessThan(512);
    const full = await get('/t/tenant-a/tile/0/000');
    expect(full.statusCode).toBe(200);
    expect(full.rawPayload.length).toBe(256 * 32);
    expect(full.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect((await get(`/t/tenant-a/tile/0/001.p/${size - 256}`)).rawPayload.length).toBe((size - 256) * 32);
    expect((await get('/t/tenant-a/tile/0/000.p/5')).rawPayload).toEqual(full.rawPayload.subarray(0, 5 * 32));
    expect((await get('/t/tenant-a/tile/1/000.p/1')).rawPayload.length).toBe(32);
    expect((await get('/t/tenant-a/tile/entries/000')).statusCode).toBe(200);
    for (const path of [
      'tile/0/001',
      `tile/0/001.p/${size - 255}`,
      'tile/0/002.p/1',
      'tile/1/000',
      'tile/2/000.p/1',
      'tile/0/01',
      'tile/0/000.p/256',
      'tile/x',
    ]) {
      const res = await get(`/t/tenant-a/${path}`);
      expect(res.statusCode, path).toBe(404);
      expect(res.json().error.code, path).toBe('NOT_FOUND');
    }
  });

  it('gzips entry bundles for clients that accept it', async () => {
    const plain = await get('/t/tenant-a/tile/entries/000');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await get('/t/tenant-a/tile/entries/000', keys.aRead, { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(zipped.rawPayload)).toEqual(plain.rawPayload);
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    expect((await get('/t/tenant-a/tile/entries/000', keys.aRead, { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
  });
});

describe('GET /v1/events/{uid}/proof', () => {
  it('issues a checkpoint when none covers the event yet, and records the read', async () => {
    const res = await t.request('POST', '/v1/events', { key: keys.aIngest, body: { action: 'late.event', actor: { type: 'user', id: 'x' } } });
    const { uid, seq } = res.json();
    const proof = await get(`/v1/events/${uid}/proof`);
    expect(proof.statusCode).toBe(200);
    const body = proof.json();
    expect(body).toMatchObject({ leaf_index: seq, event: { action: 'late.event' }, envelope: { v: 1, uid, index: seq, tenant: 'tenant-a' } });
    expect(body.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(body.checkpoint.split('\n')[1])).toBeGreaterThan(seq);
    expect(body.proof.startsWith('c2sp.org/tlog-proof@v1\nindex ')).toBe(true);
    expect(body.proof.endsWith(body.checkpoint)).toBe(true);
    await t.services.readRecords.flush(); // the record joins the ledger a moment after the read
    const viewed = await t.db.sql`select body from events where tenant_id = 'tenant-a' and action = 'audit_log.viewed' and body->'targets'->0->>'id' = ${uid}`;
    expect(viewed).toHaveLength(1);
  });

  it('answers the .tlog-proof file for Accept: text/plain or format=tlog-proof', async () => {
    const json = (await get(`/v1/events/${aUids[3]}/proof`)).json();
    const text = await get(`/v1/events/${aUids[3]}/proof`, keys.aRead, { accept: 'text/plain' });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.body.split('\n\n')[0]).toBe(json.proof.split('\n\n')[0]);
    expect((await get(`/v1/events/${aUids[3]}/proof?format=tlog-proof`)).body.startsWith('c2sp.org/tlog-proof@v1\n')).toBe(true);
    expect((await get(`/v1/events/${aUids[3]}/proof?format=xml`)).json().error.code).toBe('QUERY_INVALID');
  });

  it('is 404 for an unknown or malformed uid', async () => {
    expect((await get('/v1/events/00000000-0000-7000-8000-000000000000/proof')).json().error.code).toBe('NOT_FOUND');
    expect((await get('/v1/events/nope/proof')).json().error.code).toBe('NOT_FOUND');
  });
});

describe('GET /v1/ledger/consistency', () => {
  it('validates the sizes, naming the parameter', async () => {
    const size = Number((await get('/t/tenant-a/checkpoint')).body.split('\n')[1]);
    const cases: [string, string, string][] = [
      ['from=0', '/from', 'out_of_range'],
      [`from=${size}&to=${size - 1}`, '/from', 'out_of_range'],
      [`from=1&to=${size + 1}`, '/to', 'out_of_range'],
      ['from=abc', '/from', 'invalid_type'],
      ['to=3', '/from', 'required'],
    ];
    for (const [query, pointer, code] of cases) {
      const res = await get(`/v1/ledger/consistency?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error, query).toMatchObject({ code: 'QUERY_INVALID', details: [expect.objectContaining({ pointer, code })] });
    }
    const ok = await get(`/v1/ledger/consistency?from=1`);
    expect(ok.json()).toMatchObject({ tenant: 'tenant-a', from: 1, to: size });
    expect(ok.json().proof.length).toBeGreaterThan(0);
  });
});

describe('GET /v1/ledger/status', () => {
  it('reports the tree, the checkpoint lag, the last self-audit and witness cosignatures', async () => {
    const [cp] = await t.db.sql<{ id: number; size: number }[]>`select id, size from ledger_checkpoints where tenant_id = 'tenant-a' order by id desc limit 1`;
    await t.db.sql`insert into ledger_cosignatures (checkpoint_id, witness, signature) values (${cp!.id}, 'witness.example', '— witness.example AAAA')`;
    // Another tenant's failure must neither show nor spoil tenant A's verdict.
    await t.db
      .sql`insert into ledger_audit_runs (started_at, finished_at, ok, report) values (now(), now(), false, ${t.db.sql.json({ tenants: { 'tenant-a': { ok: true, size: 3 }, 'tenant-b': { ok: false, size: 1 } } })})`;
    await t.request('POST', '/v1/events', { key: keys.aIngest, body: { action: 'one.more', actor: { type: 'user', id: 'x' } } });
    const res = await get('/v1/ledger/status');
    expect(res.statusCode).toBe(200);
    const status = res.json();
    expect(status).toMatchObject({
      tenant: 'tenant-a',
      origin: 'test.trailproof/t/tenant-a',
      checkpoint: { size: cp!.size, key_name: 'test.trailproof/t/tenant-a' },
      self_audit: { ok: true, report: { ok: true, size: 3 } },
      witnesses: [{ witness: 'witness.example', checkpoint_size: cp!.size }],
    });
    expect(status.size).toBeGreaterThan(cp!.size);
    expect(status.checkpoint_lag).toBe(status.size - cp!.size);
    expect(JSON.stringify(status)).not.toContain('tenant-b');
  });
});

describe('access', () => {
  const routesOf = (tenant: string, uid: string) => [
    `/t/${tenant}/checkpoint`,
    `/t/${tenant}/tile/0/000.p/1`,
    `/t/${tenant}/tile/entries/000.p/1`,
    `/v1/ledger/consistency?tenant=${tenant}&from=1`,
    `/v1/ledger/status?tenant=${tenant}`,
    `/v1/events/${uid}/proof`,
  ];

  it('a read key of tenant A reads its own ledger', async () => {
    for (const url of routesOf('tenant-a', aUids[0]!)) expect((await get(url)).statusCode, url).toBe(200);
  });

  it('a read key of tenant A gets 403 for tenant B, and 404 for tenant B events', async () => {
    for (const url of routesOf('tenant-b', bUid)) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(url.includes('/proof') ? 404 : 403);
    }
  });

  it('without a key, 401; with an ingest key, 403', async () => {
    for (const url of routesOf('tenant-a', aUids[0]!)) {
      expect((await get(url, null)).statusCode, url).toBe(401);
      expect((await get(url, keys.aIngest)).statusCode, url).toBe(403);
    }
  });

  it('an unbound key names the tenant; an unknown tenant is 404', async () => {
    expect((await get('/v1/ledger/status?tenant=tenant-b', t.adminKey)).json().tenant).toBe('tenant-b');
    expect((await get('/v1/ledger/status', t.adminKey)).json().error.code).toBe('TENANT_REQUIRED');
    expect((await get('/t/nobody/checkpoint', t.adminKey)).json().error.code).toBe('TENANT_NOT_FOUND');
  });

  it('every ledger route is in the OpenAPI document', async () => {
    const paths = Object.keys((await get('/openapi.json', null)).json().paths);
    for (const p of [
      '/v1/ledger/key',
      '/t/{tenant}/checkpoint',
      '/t/{tenant}/tile/{*}',
      '/v1/events/{uid}/proof',
      '/v1/ledger/consistency',
      '/v1/ledger/status',
    ]) {
      expect(paths, p).toContain(p);
    }
  });
});
