/**
 * Crash safety of the real process (acknowledged means durable): several clients stream events with client
 * ids, the server is SIGKILLed mid-stream, and after a restart on the same database every acknowledged
 * event is there exactly once, the ledger has no gap, and retrying the requests that died with the
 * server (same ids, same content) stores each event exactly once: the ones that had committed come
 * back as duplicates with their original uid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { duplicateClientIds, expectContiguousLedger } from './ledger-checks.ts';

const TENANT = 'crashy';
const CLIENTS = 8;
const KILL_AFTER_MS = 2500;
const BATCH = 10;

const adminKey = randomAdminKey();
const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
let db: TestDatabase;
let server: ServerProcess;
let ingestKey: string;

interface Sent {
  ids: string[];
  body: unknown;
}

const start = () => startServerProcess({ env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' } });

beforeAll(async () => {
  db = await createTestDatabase();
  server = await start();
  expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
  const key = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'ingest', scope: 'ingest', tenant: TENANT });
  expect(key.status, key.text).toBe(201);
  ingestKey = key.body.secret;
});

afterAll(async () => {
  await killStartedProcesses();
  await db?.drop();
});

describe('SIGKILL mid-stream', () => {
  it('loses no acknowledged event, stores none twice, and idempotent retries fill in the rest exactly once', async () => {
    const acknowledged = new Map<string, string>();
    const failed: Sent[] = [];
    const answered: Sent[] = [];
    const unexpected: string[] = [];
    let killed = false;

    const client = async (c: number) => {
      for (let k = 0; !killed; k++) {
        // Three single events, then a batch: both paths of POST /v1/events are in flight at the kill.
        const ids = k % 4 === 3 ? Array.from({ length: BATCH }, (_, j) => `c${c}-${k}-${j}`) : [`c${c}-${k}`];
        const body = ids.length === 1 ? event(ids[0]!) : { events: ids.map(event) };
        let res: Awaited<ReturnType<typeof request>>;
        try {
          res = await request(`${server.url}/v1/events`, ingestKey, 'POST', body);
        } catch {
          failed.push({ ids, body });
          continue;
        }
        if (res.status >= 500) {
          failed.push({ ids, body });
        } else if (res.status === 201 && ids.length === 1 && res.body.duplicate === false) {
          answered.push({ ids, body });
          acknowledged.set(ids[0]!, res.body.uid);
        } else if (res.status === 200 && ids.length > 1 && res.body.rejected.length === 0 && res.body.accepted.length === ids.length) {
          answered.push({ ids, body });
          for (const a of res.body.accepted as { index: number; uid: string; duplicate: boolean }[]) {
            if (a.duplicate) unexpected.push(`${ids[a.index]} answered as duplicate on first send`);
            acknowledged.set(ids[a.index]!, a.uid);
          }
        } else {
          unexpected.push(`${res.status} ${res.text}`);
        }
      }
    };

    const streaming = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    killed = true; // the clients stop after the request they have in flight
    const exit = await server.stop('SIGKILL');
    await streaming;
    expect(exit.signal).toBe('SIGKILL');
    expect(unexpected).toEqual([]);
    // The scenario happened: the clients got a good number of acknowledgements, and the kill cut some requests.
    expect(acknowledged.size).toBeGreaterThan(100);
    expect(failed.length).toBeGreaterThan(0);

    server = await start();
    const storedBefore = await storedIds();
    expect(await duplicateClientIds(db.sql, TENANT)).toEqual([]);
    const lost = [...acknowledged].filter(([id, uid]) => storedBefore.get(id) !== uid);
    expect(lost).toEqual([]);
    // Nothing was stored that no client sent.
    const sent = new Set([...acknowledged.keys(), ...failed.flatMap((f) => f.ids)]);
    expect([...storedBefore.keys()].filter((id) => !sent.has(id))).toEqual([]);
    // A batch is one transaction: a request cut by the kill committed all of its events or none.
    for (const f of failed) expect([0, f.ids.length], f.ids[0]).toContain(f.ids.filter((id) => storedBefore.has(id)).length);
    await expectContiguousLedger(db.sql, TENANT);

    // The clients retry what failed, with the same ids and content; and a replay of requests that
    // had been answered before the crash must be recognised too (the last ones, nearest the kill).
    let committedBeforeKill = 0;
    for (const f of [...failed, ...answered.slice(-40)]) {
      const res = await request(`${server.url}/v1/events`, ingestKey, 'POST', f.body);
      const answers: { uid: string; duplicate: boolean }[] = f.ids.length === 1 ? [res.body] : res.body.accepted;
      expect(res.status, res.text).toBe(f.ids.length === 1 ? (storedBefore.has(f.ids[0]!) ? 200 : 201) : 200);
      expect(answers).toHaveLength(f.ids.length);
      f.ids.forEach((id, i) => {
        const before = storedBefore.get(id);
        expect(answers[i]!.duplicate, id).toBe(before !== undefined);
        if (before !== undefined) {
          expect(answers[i]!.uid, id).toBe(before);
          if (!acknowledged.has(id)) committedBeforeKill++;
        }
      });
    }

    const storedAfter = await storedIds();
    expect(await duplicateClientIds(db.sql, TENANT)).toEqual([]);
    expect([...sent].filter((id) => !storedAfter.has(id))).toEqual([]);
    expect(storedAfter.size).toBe(sent.size);
    await expectContiguousLedger(db.sql, TENANT);

    // Spot-check the read path on the restarted server too.
    const read = await request(`${server.url}/v1/keys`, adminKey, 'POST', { name: 'read', scope: 'read', tenant: TENANT });
    for (const [id, uid] of [...acknowledged].slice(0, 20)) {
      const res = await request(`${server.url}/v1/events/${uid}`, read.body.secret);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ uid, id, tenant: TENANT });
    }
    console.info(
      `sigkill: ${acknowledged.size} acknowledged, ${failed.length} requests cut (${failed.reduce((n, f) => n + f.ids.length, 0)} events, ${committedBeforeKill} of them had committed)`,
    );
  }, 60_000);
});

function event(id: string) {
  return {
    id,
    action: 'record.updated',
    occurred_at: occurredAt,
    actor: { type: 'service', id: 'writer' },
    targets: [{ type: 'record', id }],
    metadata: { n: id },
  };
}

/** client id → uid of every event stored for the tenant. */
async function storedIds(): Promise<Map<string, string>> {
  const rows = await db.sql<{ client_id: string; uid: string }[]>`
    select client_id, uid::text from ledger_leaves where tenant_id = ${TENANT} and client_id is not null`;
  return new Map(rows.map((r) => [r.client_id, r.uid]));
}
