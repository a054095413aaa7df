/**
 * Issue 18 point 6, acceptance 4: erasing an actor removes their events' content from every place
 * it is kept (database rows, stats, archive segments by shredding their keys) while their leaves
 * stay. Afterwards no answer, export, archive segment or table (read as the superuser) holds their
 * id or name; every other event still verifies; the erasure is in the trail, naming the subject
 * only by its keyed hash. Holds refuse it; tenants cannot reach each other's erasures.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_EXPORT } from '../../src/export/bundle-export.ts';
import { EVENT_FORMATS } from '../../src/export/formats.ts';
import { SecretBox } from '../../src/stream/secret-box.ts';
import { makeTestCertificates } from '../../src/stream/testing/certificates.ts';
import { startHttpReceiver } from '../../src/stream/testing/http-receiver.ts';
import { StreamWorker } from '../../src/stream/worker.ts';
import { runSelfAudit } from '../../src/tlog/self-audit.ts';
import { BundleVerifier } from '../../src/verify/bundle-verifier.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { dumpAllRows } from '../helpers/dump.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

/** The person to erase: their id and name must be gone from everything afterwards. */
const X = { id: 'xavier-7d1f0c', name: 'Xavier Quillfeather' };
const byX = (n: number) => ({
  action: 'document.read',
  actor: { type: 'user', id: X.id, name: X.name },
  targets: [{ type: 'document', id: `doc-${n}`, name: `Report ${n}` }],
  metadata: { n },
});
const byBob = (n: number) => ({ action: 'document.read', actor: { type: 'user', id: 'bob', name: 'Bob' }, targets: [{ type: 'document', id: `doc-${n}` }] });

let t: TestApp;
let admin: string;
let reader: string;
let otherAdmin: string;
/** Leaf indices of the old events: received 20 days ago, before anything else of the tenant (a purge range starts at 0). */
let old: number[];

beforeAll(async () => {
  t = await createTestApp({ TRAILPROOF_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789' });
  await t.createTenant('era');
  await t.createTenant('erb');
  old = await appendReceivedAgo(t.db.sql, 'era', 20, [byX(1), byBob(2), byX(3)]);
  admin = await t.createKey('admin', 'era');
  reader = await t.createKey('read', 'era');
  otherAdmin = await t.createKey('admin', 'erb');
});
afterAll(() => t.close());

describe('erasing an actor', () => {
  let erasure: { id: string; events: number; records: number[]; subject: { kind: string; hash: string }; status: string };
  let recentUid: string;
  let archivedX: number[];
  let archivedBob: number;

  beforeAll(async () => {
    // Old events: counted in the stats, archived and purged (only the archive holds them now).
    archivedX = [old[0]!, old[2]!];
    archivedBob = old[1]!;
    await t.services.rollups.catchUp();
    expect((await t.request('PUT', '/v1/tenants/era/retention', { key: admin, body: { days: 10 } })).statusCode).toBe(200);
    const run = await runLifecycle(t, { key: admin });
    expect(run.tenants[0].removed).toBe(3);
    // Recent events, in the database.
    const res = await t.request('POST', '/v1/events', { key: admin, body: { events: [byX(4), byBob(5), byX(6)] } });
    expect(res.statusCode, res.body).toBe(200);
    recentUid = res.json().accepted[0].uid;
    await t.services.rollups.catchUp();
    expect((await t.request('GET', `/v1/events?actor=${X.id}`, { key: reader })).json().data).toHaveLength(2);
    expect(JSON.stringify(await dumpAllRows(t.db.ownerSql))).toContain(X.id);

    const erased = await t.request('POST', '/v1/erasures', { key: admin, body: { subject: { actor_id: X.id }, reason: 'GDPR art. 17, request 42' } });
    expect(erased.statusCode, erased.body).toBe(201);
    erasure = erased.json();
    await t.services.rollups.catchUp();
  });

  it('erases every event of the actor, archived or not, and says so without naming them', () => {
    // Four events of theirs, and the record of the search by their id above.
    expect(erasure).toMatchObject({ events: 5, status: 'completed', subject: { kind: 'actor' }, reason: 'GDPR art. 17, request 42', tenant: 'era' });
    expect(erasure.id).toMatch(/^era_/);
    expect(erasure.subject.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves no trace of the actor in any answer, export, archive segment or table', async () => {
    const seen: string[] = [];
    // A search by the id would name it again (in its read record): the answers are read without it.
    const answers = [
      '/v1/events',
      '/v1/erasures',
      `/v1/erasures/${erasure.id}`,
      '/v1/stats?group_by=actor&since=2000-01-01T00:00:00Z',
      '/v1/stats?group_by=target&since=2000-01-01T00:00:00Z',
      `/v1/stats?group_by=day&target_type=document&target_id=doc-4&since=2000-01-01T00:00:00Z&until=${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`,
    ];
    for (const url of answers) seen.push((await t.request('GET', url, { key: reader })).body);
    for (const format of [...EVENT_FORMATS.keys(), BUNDLE_EXPORT.name]) {
      const exported = await t.request('GET', `/v1/exports?format=${format}`, { key: reader });
      expect(exported.statusCode, `${format}: ${exported.body}`).toBe(200);
      seen.push(exported.body);
    }
    for (const segment of await t.services.archive.list('era')) {
      seen.push(gunzipSync((await t.services.archive.read(segment)).bytes).toString('utf8'));
    }
    seen.push(await dumpAllRows(t.db.ownerSql));
    // The daily target rollups keep the subject's counts under '(erased)', distinct actors recounted.
    const days = await t.db.ownerSql`
      select d.actors, (select count(*) from stat_target_day_actors a where a.tenant_id = d.tenant_id and a.target_type = d.target_type
        and a.target_id = d.target_id and a.day = d.day)::bigint as rows from stat_target_days d where d.tenant_id = 'era' and d.target_id = 'doc-4'`;
    expect(days.length).toBeGreaterThan(0);
    for (const day of days) expect(Number(day.actors)).toBe(Number(day.rows));
    expect(await t.db.ownerSql`select 1 from stat_target_day_actors where tenant_id = 'era' and target_id = 'doc-4' and actor_id = '(erased)'`).toHaveLength(1);
    for (const text of seen) {
      expect(text).not.toContain(X.id);
      expect(text).not.toContain(X.name);
    }
  });

  it('streams nothing of the actor: a stream replayed from the start delivers the other events only', async () => {
    const certs = makeTestCertificates();
    const receiver = await startHttpReceiver({ tls: certs });
    const worker = new StreamWorker({
      sql: t.db.sql,
      audit: t.services.audit,
      secrets: new SecretBox(t.config),
      committer: t.services.committer,
      config: { ...t.config.streams, timeoutMs: 1000, retryMaxMs: 200 },
      pollMs: 100,
      retryBaseMs: 20,
      batchSize: 50,
    });
    try {
      const stream = await t.request('POST', '/v1/streams', {
        key: admin,
        body: { name: 'siem', kind: 'webhook', config: { url: `${receiver.url}/era`, ca: certs.caCert }, secret: 'signing-secret' },
      });
      expect(stream.statusCode, stream.body).toBe(201);
      await t.request('POST', `/v1/streams/${stream.json().id}/replay`, { key: admin, body: { since: '2000-01-01T00:00:00Z' } });
      worker.start();
      const delivered = () => receiver.accepted.map((r) => r.body.toString()).join('\n');
      const deadline = Date.now() + 15_000;
      while (!delivered().includes('erasure.completed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(delivered()).toContain('"bob"');
      expect(delivered()).toContain('erasure.completed');
      expect(delivered()).not.toContain(X.id);
      expect(delivered()).not.toContain(X.name);
    } finally {
      await worker.stop();
      await receiver.close();
    }
  });

  it('shreds the archived copies: the keys are gone, other archived events still open', async () => {
    for (const seq of archivedX) expect((await t.services.archive.archivedLeaf('era', seq))?.payload).toBeNull();
    const bob = await t.services.archive.archivedLeaf('era', archivedBob);
    expect(JSON.parse(bob!.payload!.event)).toMatchObject({ actor: { id: 'bob' } });
    for (const segment of await t.services.archive.list('era')) {
      const report = await t.services.archive.verify(segment);
      expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
    }
  });

  it('keeps the other events and every leaf: the bundle and the self-audit verify', async () => {
    expect((await t.request('GET', '/v1/events?actor=bob', { key: reader })).json().data).toHaveLength(1);
    const res = await t.request('GET', '/v1/exports?format=bundle', { key: reader });
    const key = (await t.request('GET', '/v1/ledger/key?tenant=era', { key: reader })).body.trim();
    const verifier = new BundleVerifier({ keys: [key] });
    for (const line of res.body.trimEnd().split('\n')) verifier.line(line);
    const report = verifier.finish();
    expect(report.findings).toEqual([]);
    // The two recent events of X and the read that searched for them are erased; the two archived ones were already purged.
    expect(report).toMatchObject({ ok: true, erased: 3 });
    expect((await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'era' })).ok).toBe(true);
  });

  it('answers a read of an erased event with EVENT_ERASED naming the erasure', async () => {
    const res = await t.request('GET', `/v1/events/${recentUid}`, { key: reader });
    expect(res.statusCode).toBe(410);
    expect(res.json().error.code).toBe('EVENT_ERASED');
    expect(res.json().error.message).toContain(erasure.id);
    // Its inclusion proof still stands, without the event, naming the erasure.
    const proof = await t.request('GET', `/v1/events/${recentUid}/proof`, { key: reader });
    expect(proof.json()).toMatchObject({ event: null, salt: null, erased: { erasure: erasure.id, record: erasure.records[0] } });
    // Another tenant learns nothing.
    expect((await t.request('GET', `/v1/events/${recentUid}`, { key: otherAdmin })).statusCode).toBe(404);
    expect((await t.request('GET', `/v1/events/${recentUid}/proof`, { key: otherAdmin })).statusCode).toBe(404);
  });

  it('is recorded in the trail as erasure.completed, with the indices and the keyed hash only', async () => {
    const records = (await t.request('GET', '/v1/events?action=erasure.completed', { key: reader })).json().data;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'erasure.completed',
      source: 'trailproof',
      targets: [{ type: 'erasure', id: erasure.id }],
      metadata: { erasure: erasure.id, subject: erasure.subject, part: 1, parts: 1 },
    });
    expect(records[0].metadata.indices).toHaveLength(5);
  });

  it('lists and shows erasures to the tenant only', async () => {
    const list = await t.request('GET', '/v1/erasures', { key: reader });
    expect(list.json().data.map((e: { id: string }) => e.id)).toEqual([erasure.id]);
    expect((await t.request('GET', `/v1/erasures/${erasure.id}`, { key: reader })).json()).toEqual(erasure);
    expect((await t.request('GET', `/v1/erasures/${erasure.id}`, { key: otherAdmin })).statusCode).toBe(404);
    expect((await t.request('GET', '/v1/erasures?tenant=era', { key: otherAdmin })).json().error.code).toBe('AUTH_FORBIDDEN');
    expect((await t.request('GET', '/v1/erasures', { key: otherAdmin })).json().data).toEqual([]);
  });

  it('names a payload gone without an erasure record as missing', async () => {
    const [bob] = await t.db.sql<{ seq: number; occurred_at: Date }[]>`
      select seq, occurred_at from events where tenant_id = 'era' and actor_id = 'bob' order by seq desc limit 1`;
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from event_targets where tenant_id = 'era' and seq = ${bob!.seq}`;
      await tx`delete from events where tenant_id = 'era' and seq = ${bob!.seq} and occurred_at = ${bob!.occurred_at}`;
    });
    const audit = await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'era' });
    expect(audit.ok).toBe(false);
    expect(audit.tenants.era!.first).toMatchObject({ kind: 'missing', index: Number(bob!.seq) });
  });
});

describe('an erasure refused', () => {
  it('by a legal hold in force, until it is released', async () => {
    await t.request('POST', '/v1/events', { key: otherAdmin, body: { events: [byBob(1), { ...byBob(2), actor: { type: 'user', id: 'hank' } }] } });
    const hold = await t.request('POST', '/v1/legal-holds', { key: otherAdmin, body: { reason: 'case 7', filter: { actor: 'hank' } } });
    expect(hold.statusCode, hold.body).toBe(201);
    const refused = await t.request('POST', '/v1/erasures', { key: otherAdmin, body: { subject: { actor_id: 'hank' }, reason: 'request 43' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'ERASURE_HELD', details: [{ pointer: '/subject', code: 'conflict' }] });
    expect((await t.request('GET', '/v1/events?actor=hank', { key: otherAdmin })).json().data).toHaveLength(1);
    expect((await t.request('GET', '/v1/erasures', { key: otherAdmin })).json().data).toEqual([]);

    await t.request('DELETE', `/v1/legal-holds/${hold.json().id}`, { key: otherAdmin, body: { reason: 'case closed' } });
    const erased = await t.request('POST', '/v1/erasures', { key: otherAdmin, body: { subject: { actor_id: 'hank' }, reason: 'request 43' } });
    expect(erased.statusCode, erased.body).toBe(201);
    // Hank's event, and the record of the search for it above.
    expect(erased.json()).toMatchObject({ events: 2, tenant: 'erb' });
    expect((await t.request('GET', '/v1/events?actor=hank', { key: otherAdmin })).json().data).toEqual([]);
  });

  it("for another tenant's key, a read key, or no key", async () => {
    const body = { tenant: 'era', subject: { actor_id: 'bob' }, reason: 'x' };
    expect((await t.request('POST', '/v1/erasures', { key: otherAdmin, body })).json().error.code).toBe('AUTH_FORBIDDEN');
    expect((await t.request('POST', '/v1/erasures', { key: reader, body })).statusCode).toBe(403);
    expect((await t.request('POST', '/v1/erasures', { key: null, body })).statusCode).toBe(401);
    expect((await t.request('GET', '/v1/erasures', { key: null })).statusCode).toBe(401);
    expect((await t.request('GET', '/v1/erasures', { key: admin })).json().data).toHaveLength(1);
  });

  it('when the body is malformed, pointing at the field', async () => {
    const cases: [unknown, string][] = [
      [{ subject: { actor_id: 'bob' } }, '/reason'],
      [{ reason: 'r' }, '/subject'],
      [{ subject: { actor_id: '' }, reason: 'r' }, '/subject'],
      [{ subject: { actor_id: 'a', target: { type: 'doc', id: '1' } }, reason: 'r' }, '/subject'],
      [{ subject: { target: { type: 'doc' } }, reason: 'r' }, '/subject'],
      [{ subject: {}, reason: 'r' }, '/subject'],
    ];
    for (const [body, pointer] of cases) {
      const res = await t.request('POST', '/v1/erasures', { key: admin, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('REQUEST_INVALID');
      expect(
        res
          .json()
          .error.details.map((d: { pointer: string }) => d.pointer)
          .join(' '),
        JSON.stringify(body),
      ).toContain(pointer);
    }
  });
});

describe('erasing a target', () => {
  it('erases the events that acted on it, and only those', async () => {
    await t.createTenant('erc');
    const key = await t.createKey('admin', 'erc');
    const patient = { type: 'patient', id: 'p-5521', name: 'Petra Patient' };
    await t.request('POST', '/v1/events', {
      key,
      body: {
        events: [
          { action: 'record.viewed', actor: { type: 'user', id: 'dr-a' }, targets: [patient] },
          { action: 'record.viewed', actor: { type: 'user', id: 'dr-a' }, targets: [{ type: 'patient', id: 'p-1' }] },
        ],
      },
    });
    const res = await t.request('POST', '/v1/erasures', { key, body: { subject: { target: { type: 'patient', id: 'p-5521' } }, reason: 'request 44' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ events: 1, subject: { kind: 'target' } });
    const left = (await t.request('GET', '/v1/events?action=record.viewed', { key })).json().data;
    expect(left.map((e: { targets: { id: string }[] }) => e.targets[0]!.id)).toEqual(['p-1']);
    const dump = await dumpAllRows(t.db.ownerSql);
    expect(dump).not.toContain('p-5521');
    expect(dump).not.toContain(patient.name);
    await t.services.checkpointer.issue('erc');
    const clean = await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'erc' });
    expect(clean.ok, JSON.stringify(clean.tenants)).toBe(true);

    // Without its record (deleted as the superuser), the erased payload is one gone without cover.
    const [erased] = await t.db.sql<{ seq: number }[]>`select min(seq) as seq from ledger_leaves l where tenant_id = 'erc'
      and not exists (select 1 from events e where e.tenant_id = l.tenant_id and e.seq = l.seq)`;
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from events where tenant_id = 'erc' and action = 'erasure.completed'`;
    });
    const audit = await runSelfAudit(t.db.sql, t.services.ledgerKeys, { tenant: 'erc' });
    expect(audit.ok).toBe(false);
    expect(audit.tenants.erc!.first).toMatchObject({ kind: 'missing', index: Number(erased!.seq) });
  });
});
