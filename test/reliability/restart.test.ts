/**
 * "Acknowledged means durable" across a graceful restart of the real process:
 * SIGTERM lets in-flight requests finish (and commit), the process exits 0, and every event that was
 * acknowledged (2xx) is readable after the next start on the same database, with the tenant's ledger
 * contiguous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { duplicateClientIds, expectContiguousLedger } from './ledger-checks.ts';

const TENANT = 'acme';
const adminKey = randomAdminKey();
let db: TestDatabase;
let server: ServerProcess;
let ingestKey: string;
let readKey: string;

/** Every acknowledged event: client id → what the server answered. */
const acknowledged = new Map<string, { uid: string; seq: number }>();
/** A fixed past occurred_at, so a retry of the same id is the same content. */
const occurredAt = new Date(Date.now() - 3_600_000).toISOString();

const start = () => startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });

beforeAll(async () => {
  db = await createTestDatabase();
  server = await start();
  const tenant = await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT, name: 'Acme' });
  expect(tenant.status).toBe(201);
  ingestKey = await createKey('ingest');
  readKey = await createKey('read');
});

afterAll(async () => {
  await killStartedProcesses();
  await db?.drop();
});

describe('graceful restart (SIGTERM)', () => {
  it('keeps every acknowledged single and batch event', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await request(`${server.url}/v1/events`, ingestKey, 'POST', event(`single-${i}`));
      expect(res.status, res.text).toBe(201);
      acknowledged.set(`single-${i}`, { uid: res.body.uid, seq: res.body.seq });
    }
    for (let b = 0; b < 5; b++) {
      const ids = Array.from({ length: 100 }, (_, i) => `batch-${b}-${i}`);
      const res = await request(`${server.url}/v1/events`, ingestKey, 'POST', { events: ids.map(event) });
      expect(res.status, res.text).toBe(200);
      expect(res.body.rejected).toEqual([]);
      expect(res.body.accepted).toHaveLength(100);
      for (const a of res.body.accepted as { index: number; uid: string; seq: number }[]) acknowledged.set(ids[a.index]!, { uid: a.uid, seq: a.seq });
    }

    const exit = await server.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    server = await start();

    await expectAllAcknowledgedReadable();
    const ledger = await expectContiguousLedger(db.sql, TENANT);
    expect(ledger.size).toBeGreaterThanOrEqual(520);
  }, 60_000);

  it('finishes the requests in flight when SIGTERM arrives and loses none that it acknowledged', async () => {
    const N = 300;
    let signalledAt = 0;
    let firstResponse!: () => void;
    const gotFirstResponse = new Promise<void>((resolve) => (firstResponse = resolve));
    const requests = Array.from({ length: N }, async (_, r) => {
      // Every third request is a batch of 20, the rest single events.
      const ids = r % 3 === 0 ? Array.from({ length: 20 }, (_, i) => `burst-${r}-${i}`) : [`burst-${r}`];
      const body = ids.length === 1 ? event(ids[0]!) : { events: ids.map(event) };
      try {
        const res = await request(`${server.url}/v1/events`, ingestKey, 'POST', body);
        firstResponse();
        return { ids, body, status: res.status, json: res.body, afterSignal: signalledAt > 0 };
      } catch {
        return { ids, body, status: 0, json: undefined, afterSignal: signalledAt > 0 };
      }
    });
    // SIGTERM as soon as the server is answering the burst: most of it is still in flight.
    await Promise.race([gotFirstResponse, Promise.all(requests)]);
    signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const outcomes = await Promise.all(requests);

    // Well within a supervisor's grace period (Kubernetes: 30 s), although clients keep connections alive.
    const exit = await server.stop(null, 15_000);
    const exitMs = Date.now() - signalledAt;
    expect(exit, server.output()).toEqual({ code: 0, signal: null });

    const ok = outcomes.filter((o) => o.status >= 200 && o.status < 300);
    const refused = outcomes.filter((o) => o.status === 0 || o.status === 503);
    // Closing means: no 500s, no half answers; a request is either acknowledged or visibly refused.
    expect(
      outcomes.filter((o) => o.status !== 0 && o.status !== 503 && (o.status < 200 || o.status >= 300)).map((o) => `${o.status} ${JSON.stringify(o.json)}`),
    ).toEqual([]);
    expect(ok.length + refused.length).toBe(N);
    // The signal really caught requests in flight, and they were answered (not dropped) after it.
    expect(ok.filter((o) => o.afterSignal).length).toBeGreaterThan(0);

    for (const o of ok) {
      if (o.ids.length === 1) {
        expect(o.json.duplicate).toBe(false);
        acknowledged.set(o.ids[0]!, { uid: o.json.uid, seq: o.json.seq });
      } else {
        expect(o.json.rejected).toEqual([]);
        for (const a of o.json.accepted as { index: number; uid: string; seq: number }[]) acknowledged.set(o.ids[a.index]!, { uid: a.uid, seq: a.seq });
      }
    }

    server = await start();
    await expectAllAcknowledgedReadable();
    await expectContiguousLedger(db.sql, TENANT);
    const stored = new Set(
      (await db.sql<{ client_id: string }[]>`select client_id from ledger_leaves where tenant_id = ${TENANT} and client_id like 'burst-%'`).map(
        (r) => r.client_id,
      ),
    );
    const refusedButStored = refused.filter((o) => o.ids.some((id) => stored.has(id))).length;

    // What was refused is safe to send again: each event ends up stored once.
    for (const o of refused) {
      const res = await request(`${server.url}/v1/events`, ingestKey, 'POST', o.body);
      expect(res.status, res.text).toBeLessThan(300);
    }
    expect(await duplicateClientIds(db.sql, TENANT)).toEqual([]);
    const [burst] = await db.sql<{ n: number }[]>`select count(*)::int as n from ledger_leaves where tenant_id = ${TENANT} and client_id like 'burst-%'`;
    expect(burst!.n).toBe(outcomes.reduce((n, o) => n + o.ids.length, 0));
    await expectContiguousLedger(db.sql, TENANT);
    console.info(
      `burst: exit ${exitMs} ms after SIGTERM; ${ok.length} acknowledged (${ok.filter((o) => o.afterSignal).length} after SIGTERM), ${refused.length} refused (${refusedButStored} of them stored anyway)`,
    );
  }, 120_000);
});

describe('SIGKILL right after reads', () => {
  it('loses no record of an answered read: the next start moves each into the ledger once', async () => {
    const reader = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'reader', scope: 'read', tenant: TENANT });
    expect(reader.status, reader.text).toBe(201);
    const uids = [...acknowledged.values()].slice(0, 30).map((a) => a.uid);
    const reads = await Promise.all(uids.map((uid, n) => request(`${server.url}/v1/events/${uid}${n % 2 ? '/proof' : ''}`, reader.body.secret)));
    expect(reads.map((r) => r.status)).toEqual(uids.map(() => 200));
    // Killed before the records of the last reads joined the ledger (they wait ~50 ms for others).
    await server.stop('SIGKILL');
    const pending = await db.sql`select id from read_records`;
    expect(pending.length).toBeGreaterThan(0);

    server = await start();
    for (const started = Date.now(); (await db.sql`select id from read_records`).length > 0; ) {
      if (Date.now() - started > 20_000) throw new Error('the records left by the killed server were not moved');
      await new Promise((r) => setTimeout(r, 50));
    }
    const recorded = await db.sql<{ target: string }[]>`
      select body->'targets'->0->>'id' as target from events
      where tenant_id = ${TENANT} and action = 'audit_log.viewed' and actor_id = ${reader.body.id}`;
    expect(recorded.map((r) => r.target).sort()).toEqual([...uids].sort());
    expect(await duplicateClientIds(db.sql, TENANT)).toEqual([]);
    await expectContiguousLedger(db.sql, TENANT);
  }, 60_000);
});

function event(id: string) {
  return {
    id,
    action: 'document.exported',
    occurred_at: occurredAt,
    actor: { type: 'user', id: 'alice' },
    targets: [{ type: 'document', id: `doc-${id}` }],
    metadata: { client_id: id },
  };
}

async function createKey(scope: 'ingest' | 'read'): Promise<string> {
  const res = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: `${scope} key`, scope, tenant: TENANT });
  expect(res.status, res.text).toBe(201);
  return res.body.secret as string;
}

/** Every acknowledged event is in the listing (once, with its uid and seq) and readable by uid. */
async function expectAllAcknowledgedReadable(): Promise<void> {
  const listed = new Map<string, { uid: string; seq: number }[]>();
  let cursor: string | null = null;
  do {
    const page = await request(
      `${server.url}/v1/events?action=document.exported&sort=asc&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      readKey,
    );
    expect(page.status, page.text).toBe(200);
    for (const e of page.body.data as { id: string; uid: string; seq: number }[]) listed.set(e.id, [...(listed.get(e.id) ?? []), { uid: e.uid, seq: e.seq }]);
    cursor = page.body.next_cursor;
  } while (cursor);

  const missing = [...acknowledged.keys()].filter((id) => !listed.has(id));
  expect(missing).toEqual([]);
  for (const [id, ack] of acknowledged) expect(listed.get(id), id).toEqual([ack]);

  const entries = [...acknowledged.entries()];
  for (let i = 0; i < entries.length; i += 32) {
    await Promise.all(
      entries.slice(i, i + 32).map(async ([id, ack]) => {
        const res = await request(`${server.url}/v1/events/${ack.uid}`, readKey);
        expect(res.status, `${id}: ${res.text}`).toBe(200);
        expect(res.body).toMatchObject({ uid: ack.uid, seq: ack.seq, id, tenant: TENANT, occurred_at: occurredAt, metadata: { client_id: id } });
      }),
    );
  }
}
