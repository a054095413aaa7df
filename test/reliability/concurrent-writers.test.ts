/**
 * Three real server processes on one database (docs/architecture.md), all
 * writing to one tenant at once, produce one linear, verifiable tree: indices 0..n-1 without gap or
 * duplicate, every acknowledged event in it at the index it was acknowledged with, the stored root
 * equal to the root recomputed from the events and salts, and every checkpoint any process signed a
 * prefix of that one tree (so all are pairwise consistent), at most one per second, including those
 * issued on demand for proofs while other processes' loops were issuing too.
 */
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootFromLeaves } from '../../src/ledger/merkle.ts';
import { consistencyProof } from '../../src/ledger/proofs.ts';
import { databaseHashReader } from '../../src/tlog/hash-reader.ts';
import { listCheckpoints } from '../../src/tlog/checkpoint-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killStartedProcesses, randomAdminKey, request, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { hashLeaf, parseCheckpoint, verifyConsistency, verifySignedNote, verifyTlogProof } from '../independent/spec-verifier.ts';
import { duplicateClientIds, expectContiguousLedger, recomputedLeafHashes } from './ledger-checks.ts';

const TENANT = 'acme';
const PROCESSES = 3;
const CLIENTS_PER_PROCESS = 4;
const BATCHES_PER_CLIENT = 16;
const adminKey = randomAdminKey();
let db: TestDatabase;
let servers: ServerProcess[] = [];

/** client id → the index the server acknowledged it with. */
const acknowledged = new Map<string, { uid: string; seq: number }>();

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' };
  // Started one after the other (first start installs the admin key), then all write at once.
  for (let i = 0; i < PROCESSES; i++) servers.push(await startServerProcess({ env }));
  expect((await request(`${servers[0]!.url}/v1/tenants`, adminKey, 'POST', { id: TENANT })).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await killStartedProcesses();
  await db?.drop();
});

describe(`${PROCESSES} server processes writing one tenant concurrently`, () => {
  it('build one linear tree whose every checkpoint verifies and is consistent with the others', async () => {
    const verifierKey = (await request(`${servers[0]!.url}/v1/ledger/key?tenant=${TENANT}`, null)).text.split('\n')[0]!;
    const clients = servers.flatMap((server, p) =>
      Array.from({ length: CLIENTS_PER_PROCESS }, async (_, c) => {
        for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
          // Alternate batches and single events, so group commits of different shapes interleave.
          const ids = Array.from({ length: b % 2 === 0 ? 25 : 1 }, (_, i) => `p${p}-c${c}-b${b}-${i}`);
          const body = ids.length === 1 ? event(ids[0]!) : { events: ids.map(event) };
          const res = await request(`${server.url}/v1/events`, adminKey, 'POST', body);
          expect(res.status, res.text).toBeLessThan(300);
          const accepted = ids.length === 1 ? [{ index: 0, ...res.body }] : res.body.accepted;
          for (const a of accepted as { index: number; uid: string; seq: number }[]) acknowledged.set(ids[a.index]!, { uid: a.uid, seq: a.seq });
        }
      }),
    );
    // Meanwhile, provers ask each process for proofs of events just written through another one: a
    // proof of an event no checkpoint covers makes that process issue one on the spot, racing the
    // other processes' background loops.
    // They go on after the writers until the proofs have come with three checkpoints (the tree
    // still grows by the records of their reads), so that there are several to hold to each other
    // however fast the writing went.
    let writing = true;
    const seen = new Set<string>();
    const provers = servers.map(async (server, p) => {
      let proofs = 0;
      while (writing || proofs === 0 || seen.size < 3) {
        const latest = [...acknowledged.values()].at(-1);
        if (latest) {
          const res = await request(`${server.url}/v1/events/${latest.uid}/proof`, adminKey);
          expect(res.status, res.text).toBe(200);
          const leaf = hashLeaf(Buffer.from(canonicalize(res.body.envelope)!, 'utf8'));
          expect(verifyTlogProof(res.body.proof, verifierKey, leaf, { origin: `test.trailproof/t/${TENANT}` }).index).toBe(BigInt(latest.seq));
          seen.add(res.body.checkpoint);
          proofs++;
        }
        await new Promise((r) => setTimeout(r, 50 + 30 * p));
      }
    });
    await Promise.all(clients);
    writing = false;
    await Promise.all(provers);
    // Graceful stops: each process checkpoints what grew since its last checkpoint.
    for (const server of servers) expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    servers = [];

    const { size } = await expectContiguousLedger(db.sql, TENANT);
    // The provers' reads are audit events too (audit_log.viewed): acknowledged writes are the rest.
    expect(await duplicateClientIds(db.sql, TENANT)).toEqual([]);
    const stored = await db.sql<{ client_id: string; uid: string; seq: number }[]>`
      select client_id, uid, seq from ledger_leaves where tenant_id = ${TENANT} and client_id is not null`;
    const byId = new Map(stored.map((r) => [r.client_id, { uid: r.uid, seq: r.seq }]));
    expect(acknowledged.size).toBe(PROCESSES * CLIENTS_PER_PROCESS * (BATCHES_PER_CLIENT / 2) * 26);
    for (const [id, ack] of acknowledged) expect(byId.get(id), id).toEqual(ack);

    const leaves = await recomputedLeafHashes(db.sql, TENANT);
    expect(leaves).toHaveLength(size);
    const [head] = await db.sql<{ root: Buffer }[]>`select root from ledger_heads where tenant_id = ${TENANT}`;
    expect(head!.root.toString('hex')).toBe(rootFromLeaves(leaves).toString('hex'));

    const checkpoints = await listCheckpoints(db.sql, TENANT);
    expect(checkpoints.length).toBeGreaterThan(2);
    expect(checkpoints.at(-1)!.size).toBe(size);
    const reader = databaseHashReader(db.sql, TENANT);
    for (const [i, cp] of checkpoints.entries()) {
      const parsed = parseCheckpoint(verifySignedNote(cp.note, verifierKey).text);
      // Each signed root is the root of a prefix of the one tree recomputed from the events.
      expect(parsed.rootHash.toString('hex'), `checkpoint ${cp.id}`).toBe(rootFromLeaves(leaves.slice(0, Number(parsed.size))).toString('hex'));
      const previous = checkpoints[i - 1];
      if (!previous) continue;
      // No two processes checkpointed the same growth, and growth was checkpointed at most once a second.
      expect(cp.size, `checkpoint ${cp.id}`).toBeGreaterThan(previous.size);
      expect(cp.issued_at.getTime() - previous.issued_at.getTime(), `checkpoint ${cp.id}`).toBeGreaterThanOrEqual(1000);
      if (previous.size === 0) continue;
      const proof = await consistencyProof(reader, previous.size, cp.size);
      expect(verifyConsistency(previous.size, cp.size, proof, previous.root, cp.root), `${previous.size} → ${cp.size}`).toBe(true);
    }
  }, 180_000);
});

function event(id: string) {
  return { tenant: TENANT, id, action: 'document.updated', actor: { type: 'user', id: id.split('-')[0]! }, targets: [{ type: 'document', id }] };
}
