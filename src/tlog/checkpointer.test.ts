import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../ledger/checkpoint.ts';
import { rootFromLeaves } from '../ledger/merkle.ts';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import { parseCheckpoint as specParseCheckpoint, verifySignedNote } from '../../test/independent/spec-verifier.ts';
import { recomputedLeafHashes } from '../../test/reliability/ledger-checks.ts';
import { latestCheckpoint, listCheckpoints } from './checkpoint-store.ts';
import { Checkpointer } from './checkpointer.ts';
import type { CheckpointRow } from './checkpoint-store.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
});
afterAll(() => t.close());

// Each test makes its own tenant: a tick checkpoints every tenant without a checkpoint (at size 0).
async function ingest(tenant: string, n: number): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({ tenant, action: 'user.login', actor: { type: 'user', id: `u${i}` } }));
  const res = await t.request('POST', '/v1/events', { body: { events } });
  expect(res.statusCode).toBe(200);
}

const checkpointer = (options: ConstructorParameters<typeof Checkpointer>[2] = {}) => new Checkpointer(t.db.sql, t.services.ledgerKeys, options);

describe('Checkpointer', () => {
  it('signs the head: a C2SP checkpoint of the root of the stored leaves, verifiable by the published key', async () => {
    await ingest('acme', 7);
    const row = await t.services.checkpointer.issue('acme');
    const leaves = await recomputedLeafHashes(t.db.sql, 'acme');
    expect(row).toMatchObject({ tenant: 'acme', size: 7, key_name: 'test.trailproof/t/acme' });
    expect(row.root.equals(rootFromLeaves(leaves))).toBe(true);
    const [verifierKey] = t.services.ledgerKeys.verifierKeysFor('acme');
    const { checkpoint } = openCheckpoint(row.note, 'test.trailproof/t/acme', t.services.ledgerKeys.verifiersFor('acme')[0]!);
    expect(checkpoint.size).toBe(7);
    // The independent implementation agrees on the note, the signature and the key ID.
    const spec = specParseCheckpoint(verifySignedNote(row.note, verifierKey!).text);
    expect({ origin: spec.origin, size: spec.size, root: spec.rootHash.toString('base64') }).toEqual({
      origin: 'test.trailproof/t/acme',
      size: 7n,
      root: row.root.toString('base64'),
    });
    expect(verifierKey!.split('+')[1]).toBe(row.key_id);
  });

  it('returns the stored checkpoint while the tree has not grown', async () => {
    const first = await t.services.checkpointer.issue('acme');
    const again = await t.services.checkpointer.issue('acme');
    expect(again.id).toBe(first.id);
  });

  it('issues at most one checkpoint per interval while a tree grows, and waits for the next slot', async () => {
    const cp = checkpointer({ minIntervalMs: 400 });
    await t.createTenant('globex');
    await ingest('globex', 1);
    const first = await cp.issue('globex');
    await ingest('globex', 2);
    const started = Date.now();
    const second = await cp.issue('globex');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect([first.size, second.size]).toEqual([1, 3]);
    await ingest('globex', 1);
    await cp.tick(); // within the interval: nothing due
    expect((await latestCheckpoint(t.db.sql, 'globex'))!.size).toBe(3);
    await new Promise((r) => setTimeout(r, 450));
    await cp.tick();
    expect((await latestCheckpoint(t.db.sql, 'globex'))!.size).toBe(4);
  });

  it('re-issues an unchanged tree periodically: same note, new row', async () => {
    await t.createTenant('initech');
    await ingest('initech', 2);
    const cp = checkpointer({ reissueMs: 200 });
    const first = await cp.issue('initech');
    await cp.tick();
    expect((await listCheckpoints(t.db.sql, 'initech')).length).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    await cp.tick();
    const rows = await listCheckpoints(t.db.sql, 'initech');
    expect(rows.length).toBe(2);
    expect(rows[1]!.note).toBe(first.note);
    expect(rows[1]!.issued_at.getTime()).toBeGreaterThan(first.issued_at.getTime());
  });

  it('never issues twice for one growth when several processes race (advisory lock)', async () => {
    await t.createTenant('umbrella');
    await ingest('umbrella', 3);
    const racers = [checkpointer({ minIntervalMs: 60_000 }), checkpointer({ minIntervalMs: 60_000 }), checkpointer({ minIntervalMs: 60_000 })];
    await Promise.all(racers.flatMap((cp) => [cp.tick(), cp.tick(), cp.issue('umbrella')]));
    const rows = await listCheckpoints(t.db.sql, 'umbrella');
    expect(rows.map((r) => r.size)).toEqual([3]);
  });

  it('tells listeners about each checkpoint it issues, and checkpoints grown trees when stopped', async () => {
    const cp = checkpointer({ minIntervalMs: 0 });
    const seen: CheckpointRow[] = [];
    cp.onCheckpoint((row) => void seen.push(row));
    cp.onCheckpoint(() => {
      throw new Error('a failing listener does not stop the others');
    });
    await t.createTenant('hooli');
    await ingest('hooli', 2);
    await cp.issue('hooli');
    await ingest('hooli', 3);
    await cp.stop();
    expect(seen.filter((r) => r.tenant === 'hooli').map((r) => r.size)).toEqual([2, 5]);
  });

  it('refuses to sign a head whose root does not match its frontier', async () => {
    await ingest('acme', 1);
    await t.db.ownerSql`update ledger_heads set root = sha256('forged'::bytea) where tenant_id = 'acme'`;
    await expect(checkpointer({ minIntervalMs: 0 }).issue('acme')).rejects.toMatchObject({ code: 'INCONSISTENT' });
  });
});
