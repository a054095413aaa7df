/**
 * Issue 18, acceptance 1 (verifiable purge): a tenant's trail with events received long ago, a
 * legal hold, young events, a 10-day retention and a lifecycle run. Untampered, its bundle verifies
 * and names the purged range, and every remaining event's proof (and every purged event's leaf)
 * checks out with the independent verifier. Then the database is tampered with directly: a payload
 * deleted without a purge record, a held payload deleted inside a purged range, a purge record
 * beyond the policy (appended through the service's own path, its removal done by the database
 * function), and a deleted purge record. `verify` and the self-audit each detect and name it.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterEach, describe, expect, it } from 'vitest';
import { LIFECYCLE_ACTOR } from '../../src/lifecycle/purge.ts';
import { removePayloads } from '../../src/lifecycle/payload-removal.ts';
import type { TxSql } from '../../src/store/db.ts';
import { Checkpointer } from '../../src/tlog/checkpointer.ts';
import { appendReceivedAgo } from '../helpers/aged-events.ts';
import { createTestApp } from '../helpers/app.ts';
import { killStartedProcesses } from '../helpers/server-process.ts';
import { hashLeaf, verifyTlogProof } from '../independent/spec-verifier.ts';
import { selfAudit, tamper, TENANT, verifyInProcess, verifyWithCli, type TamperLog } from './fixture.ts';
import { runLifecycle } from '../helpers/lifecycle-run.ts';

const OLD = 40; // events received 30 days ago: expired
const HELD = 'bob'; // the actor a legal hold covers
const YOUNG = 30; // events received now

interface PurgedLog extends TamperLog {
  admin: string;
  /** The purge record's index and the range it covers. */
  record: number;
  range: [number, number];
  /** Indices of the aged events the hold kept, and of the young events. */
  held: number[];
  young: number[];
}

/** What a purge removes of one event (its row and its targets' rows), done by hand. */
async function deletePayload(tx: TxSql, seq: number): Promise<void> {
  for (const table of ['events', 'event_targets']) await tx`delete from ${tx(table)} where tenant_id = ${TENANT} and seq = ${seq}`;
}

let log: PurgedLog | undefined;
afterEach(async () => {
  await killStartedProcesses();
  await log?.t.close();
  log = undefined;
});

const event = (i: number) => ({
  action: 'document.read',
  actor: { type: 'user', id: i < OLD && i % 8 === 0 ? HELD : `user-${i % 5}` },
  targets: [{ type: 'document', id: `doc-${i}` }],
  metadata: { i },
});

/** The trail as described above, purged once by a lifecycle run through the API, checkpointed after. */
async function purgedLog(): Promise<PurgedLog> {
  const t = await createTestApp();
  await t.createTenant(TENANT);
  // Received before anything else of the tenant (leaves are received in index order).
  const old = await appendReceivedAgo(
    t.db.sql,
    TENANT,
    30,
    Array.from({ length: OLD }, (_, i) => event(i)),
  );
  const admin = await t.createKey('admin', TENANT);
  const ingest = await t.createKey('ingest', TENANT);
  const checkpointer = new Checkpointer(t.db.sql, t.services.ledgerKeys, { minIntervalMs: 0 });
  expect((await t.request('POST', '/v1/legal-holds', { key: admin, body: { reason: 'case 7', filter: { actor: HELD } } })).statusCode).toBe(201);
  const ingested = await t.request('POST', '/v1/events', { key: ingest, body: { events: Array.from({ length: YOUNG }, (_, i) => event(OLD + i)) } });
  expect(ingested.statusCode).toBe(200);
  const checkpointSizes = [(await checkpointer.issue(TENANT)).size];
  expect((await t.request('PUT', `/v1/tenants/${TENANT}/retention`, { key: admin, body: { days: 10 } })).statusCode).toBe(200);
  const run = await runLifecycle(t, { key: admin, body: { tenant: TENANT } });
  const [purged] = run.tenants as { records: { index: number; range: [number, number]; count: number }[] }[];
  const held = old.filter((i) => event(i).actor.id === HELD);
  expect(purged!.records).toEqual([{ index: expect.any(Number), range: [0, OLD], count: OLD - held.length }]);
  checkpointSizes.push((await checkpointer.issue(TENANT)).size);
  const key = (await t.app.inject({ method: 'GET', url: `/v1/ledger/key?tenant=${TENANT}` })).body.trim().split('\n')[0]!;
  const saved = (await t.request('GET', `/t/${TENANT}/checkpoint`)).body;
  const young = (
    await t.db.sql<{ seq: number }[]>`
    select seq from events where tenant_id = ${TENANT} and action = 'document.read' and seq >= ${OLD} order by seq`
  ).map((r) => r.seq);
  const { index, range } = purged!.records[0]!;
  return { t, key, size: checkpointSizes.at(-1)!, checkpointSizes, saved, admin, record: index, range, held, young };
}

describe('a purged tenant verifies, and its remaining proofs check out independently', () => {
  it('the bundle verifies (exit 0) and names the purged range; so does the self-audit', async () => {
    log = await purgedLog();
    const { code, report } = await verifyWithCli(log, { since: log.saved });
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, leaves: log.size, purged: OLD - log.held.length, since: { ok: true } });
    expect(report.purged_ranges).toEqual([
      { record: log.record, range: [0, OLD], count: OLD - log.held.length, removed: OLD - log.held.length, cutoff: expect.any(String) },
    ]);
    expect(await selfAudit(log)).toMatchObject({ ok: true, size: log.size, first: null });
  }, 120_000);

  it('inclusion proofs of remaining events, and of purged leaves, verify with the independent verifier', async () => {
    log = await purgedLog();
    const l = log;
    const origin = l.t.services.ledgerKeys.origin(TENANT);
    const proofOf = async (index: number) => {
      const [row] = await l.t.db.sql<{ uid: string }[]>`select uid from ledger_leaves where tenant_id = ${TENANT} and seq = ${index}`;
      const res = await l.t.request('GET', `/v1/events/${row!.uid}/proof`, { key: l.admin });
      expect(res.statusCode).toBe(200);
      return res.json() as {
        event: unknown;
        salt: string | null;
        envelope: Record<string, unknown> & { commitment: string };
        leaf_index: number;
        proof: string;
      };
    };
    const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
    for (const index of [l.young[0]!, l.young.at(-1)!, l.held[0]!]) {
      const { event: body, salt, envelope, leaf_index, proof } = await proofOf(index);
      expect(sha256(Buffer.from(salt!, 'hex'), Buffer.from(canonicalize(body)!, 'utf8')).toString('hex')).toBe(envelope.commitment);
      const leaf = hashLeaf(Buffer.from(canonicalize(envelope)!, 'utf8'));
      expect(verifyTlogProof(proof, l.key, leaf, { origin }).index).toBe(BigInt(leaf_index));
    }
    // A purged event keeps its leaf: no body, no salt, and the envelope's proof still verifies.
    const purged = await proofOf(1);
    expect(purged).toMatchObject({ event: null, salt: null, leaf_index: 1 });
    expect(verifyTlogProof(purged.proof, l.key, hashLeaf(Buffer.from(canonicalize(purged.envelope)!, 'utf8')), { origin }).index).toBe(1n);
  }, 120_000);
});

describe('tampering with purges is detected and named', () => {
  it('a young payload deleted by a superuser without a purge record: missing at its index', async () => {
    log = await purgedLog();
    const victim = log.young[3]!;
    await tamper(log, (tx) => deletePayload(tx, victim));
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'missing', index: victim, detail: expect.stringContaining('no purge record covers it') });
    expect(await selfAudit(log)).toMatchObject({ ok: false, first: { kind: 'missing', index: victim } });
  }, 120_000);

  it('a held payload deleted inside the purged range: more gone than the record purged', async () => {
    log = await purgedLog();
    const victim = log.held[1]!;
    await tamper(log, (tx) => deletePayload(tx, victim));
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({
      kind: 'policy_violation',
      index: log.record,
      detail: expect.stringContaining(`${OLD - log.held.length + 1} payloads are gone`),
    });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'policy_violation', index: log.record });
  }, 120_000);

  it('a forged purge record beyond the policy, its removal done by the database: policy_violation at the record', async () => {
    log = await purgedLog();
    const l = log;
    // What a compromised service could do: append a purge record of the young events and have the database remove them.
    const [now] = await l.t.db.sql<{ at: Date }[]>`select clock_timestamp() as at`;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [head] = await l.t.db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${TENANT}`;
    const [counted] = await l.t.db.sql<{ count: number }[]>`select trailproof_purge_count(${TENANT}, ${OLD}, ${head!.size}, ${now!.at}, ${now!.at}) as count`;
    expect(counted!.count).toBeGreaterThanOrEqual(YOUNG);
    const forged = await l.t.services.audit.record({
      tenant: TENANT,
      principal: { actor: LIFECYCLE_ACTOR },
      action: 'retention.purged',
      metadata: {
        range_start: OLD,
        range_end: head!.size,
        count: counted!.count,
        cutoff: now!.at.toISOString(),
        decided_at: now!.at.toISOString(),
        policy: { days: 10, source: 'tenant' },
        purge_after_days: 10,
        previous: l.record,
      },
    });
    if (forged.status !== 'created') throw new Error(forged.status);
    expect(await removePayloads(l.t.db.sql, TENANT, forged.seq, [OLD, head!.size])).toBe(counted!.count);
    const { code, report } = await verifyWithCli(l);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({
      kind: 'policy_violation',
      index: forged.seq,
      detail: expect.stringContaining('later than 10 days before its decision'),
    });
    expect(report.purged_ranges.map((r) => r.record)).toEqual([l.record, forged.seq]);
    expect((await selfAudit(l)).first).toMatchObject({ kind: 'policy_violation', index: forged.seq });
  }, 120_000);

  it('the purge record deleted: its payloads are missing to verify; the self-audit names the record', async () => {
    log = await purgedLog();
    const l = log;
    await tamper(l, (tx) => deletePayload(tx, l.record));
    const { code, report } = await verifyWithCli(l);
    expect(code).toBe(1);
    expect(report.purged_ranges).toEqual([]);
    expect(report.first).toMatchObject({ kind: 'missing', index: 1, range: [1, l.held[1]] });
    expect(report.findings).toContainEqual(expect.objectContaining({ kind: 'missing', index: l.record }));
    expect(await selfAudit(l)).toMatchObject({
      ok: false,
      first: { kind: 'missing', index: l.record, detail: expect.stringContaining(`purge record at index ${l.record}`) },
    });
    // An in-process verify of the same bundle agrees with the CLI.
    expect((await verifyInProcess(l)).first).toMatchObject({ kind: 'missing', index: 1 });
  }, 120_000);
});
