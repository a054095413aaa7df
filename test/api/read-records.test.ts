/**
 * The record of a read of one event (GET /v1/events/{uid} and its proof; src/audit/recorded-read.ts).
 * With a key bound to a tenant the record is committed while the lookup runs, on the condition that
 * the tenant's ledger holds the event: a found event gets exactly one record in its tenant's ledger,
 * and a missing one, another tenant's or a malformed uid gets none anywhere, also amid other appends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { expectContiguousLedger } from '../reliability/ledger-checks.ts';

let t: TestApp;
const keys = {} as Record<'aRead' | 'aIngest' | 'bIngest' | 'operatorRead', string>;
const uids = {} as Record<'a' | 'b', string>;

beforeAll(async () => {
  t = await createTestApp();
  for (const tenant of ['a', 'b'] as const) {
    await t.createTenant(`tenant-${tenant}`);
    const ingest = await t.createKey('ingest', `tenant-${tenant}`);
    keys[`${tenant}Ingest`] = ingest;
    const res = await t.request('POST', '/v1/events', { key: ingest, body: { action: 'doc.read', actor: { type: 'user', id: tenant } } });
    uids[tenant] = res.json().uid;
  }
  keys.aRead = await t.createKey('read', 'tenant-a');
  keys.operatorRead = await t.createKey('read');
});
afterAll(() => t.close());

interface ReadRecord {
  tenant: string;
  target: string;
  view: string | null;
}

/** The records of reads in the ledgers since `since` (a received_at), per tenant then in ledger order. */
async function readRecords(since: Date): Promise<ReadRecord[]> {
  await t.services.readRecords.flush();
  expect(await t.db.sql`select id from read_records`).toHaveLength(0);
  return t.db.sql<ReadRecord[]>`
    select tenant_id as tenant, body->'targets'->0->>'id' as target, body->'metadata'->>'view' as view
    from events where action = 'audit_log.viewed' and received_at >= ${since} order by tenant_id, seq`;
}

/** Now, as the service (in this process) stamps received_at; a little later than anything stored before. */
async function now(): Promise<Date> {
  await new Promise((r) => setTimeout(r, 2));
  return new Date();
}

const routes = [
  { name: 'GET /v1/events/{uid}', url: (uid: string) => `/v1/events/${uid}`, view: null },
  { name: 'GET /v1/events/{uid}/proof', url: (uid: string) => `/v1/events/${uid}/proof`, view: 'inclusion_proof' },
];

describe.each(routes)('$name', ({ url, view }) => {
  it('records a read of an own event once, in its tenant, for a tenant key and a key bound to no tenant', async () => {
    const since = await now();
    for (const [key, uid] of [
      [keys.aRead, uids.a],
      [keys.operatorRead, uids.b],
      [keys.aRead, uids.a.toUpperCase()],
    ] as const) {
      const res = await t.request('GET', url(uid), { key });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(await readRecords(since)).toEqual([
      { tenant: 'tenant-a', target: uids.a, view },
      { tenant: 'tenant-a', target: uids.a, view },
      { tenant: 'tenant-b', target: uids.b, view },
    ]);
  });

  it("records nothing for another tenant's event, a missing one or a malformed uid, and answers each alike", async () => {
    const since = await now();
    const answers = [];
    for (const uid of [uids.b, '00000000-0000-7000-8000-000000000000', 'not-a-uid']) {
      const res = await t.request('GET', url(uid), { key: keys.aRead });
      expect(res.statusCode).toBe(404);
      answers.push(res.json().error.code);
    }
    expect(new Set(answers)).toEqual(new Set(['NOT_FOUND']));
    expect(await readRecords(since)).toEqual([]);
  });

  it('records every found read and none of the others amid concurrent reads and ingest', async () => {
    const since = await now();
    const ingests = Array.from({ length: 10 }, (_, n) =>
      t.request('POST', '/v1/events', { key: n % 2 ? keys.aIngest : keys.bIngest, body: { action: 'burst.write', actor: { type: 'user', id: `w${n}` } } }),
    );
    const reads = Array.from({ length: 20 }, (_, n) => t.request('GET', url(n % 2 ? uids.a : uids.b), { key: keys.aRead }));
    const [written, read] = await Promise.all([Promise.all(ingests), Promise.all(reads)]);
    expect(written.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
    expect(read.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, (_, n) => (n % 2 ? 200 : 404)));
    expect(await readRecords(since)).toEqual(Array(10).fill({ tenant: 'tenant-a', target: uids.a, view }));
    for (const tenant of ['tenant-a', 'tenant-b']) await expectContiguousLedger(t.db.ownerSql, tenant);
  });
});

describe('GET /v1/ledger/status', () => {
  it("counts the tenant's records of reads not yet in its tree", async () => {
    await t.services.readRecords.flush();
    const status = async () => (await t.request('GET', '/v1/ledger/status', { key: keys.aRead })).json().read_records_pending;
    expect(await status()).toBe(0);
    // As a record waits between its commit and its pass (or while passes fail).
    await t.db.ownerSql`insert into read_records (tenant_id, body) values ('tenant-b', '{}'), ('tenant-a', '{}')`;
    expect(await status()).toBe(1);
    // Not records the service made: removed with the triggers off (only moved records may leave).
    await t.db.ownerSql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from read_records`;
    });
  });
});
